/**
 * The files of a projected volume (pkg/volume/projected's collectData):
 * the union of its sources, each written under its own paths with the
 * volume's `defaultMode` (0644) unless an item names a mode:
 *
 * - `configMap` and `secret`: keys as files, as their own volumes do;
 * - `downwardAPI`: the pod's metadata fields (name, namespace, uid, labels,
 *   annotations), as the kubelet allows them in volumes;
 * - `serviceAccountToken`: a token for the pod's ServiceAccount from the
 *   token manager, bound to the pod, with the source's audience and
 *   lifetime (default 3600 s, as the API defaults it).
 *
 * Sources kumo cannot serve (clusterTrustBundle, podCertificate, resource
 * fields) fail the volume with a message saying so.
 */
import { metadataFieldValue } from '../../api/downward-api.js';
import type { Pod, Volume } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import { type FileProjection, validProjectionPath } from './atomic-writer.js';
import { makePayload, type VolumeSources, VolumeSetupError } from './payload.js';
import { type ServiceAccountTokens, TokenFetchError } from './token-manager.js';

const DEFAULT_MODE = 0o644;
/** The API's default for a serviceAccountToken source's expirationSeconds. */
const DEFAULT_TOKEN_SECONDS = 3600;

type P = Pod & KObject;

/** A token request for the volume failed: a FailedMount event, and a retry at the next sync. */
export class TokenVolumeError extends VolumeSetupError {
  override name = 'TokenVolumeError';
}

export async function projectedPayload(
  pod: P,
  v: Volume,
  sources: VolumeSources,
  tokens: ServiceAccountTokens | undefined,
): Promise<Map<string, FileProjection>> {
  const ns = pod.metadata.namespace ?? 'default';
  const projected = v.projected ?? {};
  const defaultMode = projected.defaultMode ?? DEFAULT_MODE;
  const fail = (why: string): never => {
    throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${v.name}" : ${why}`);
  };
  const out = new Map<string, FileProjection>();
  const add = (files: Map<string, FileProjection>) => {
    for (const [path, f] of files) out.set(path, f);
  };
  for (const source of projected.sources ?? []) {
    if (source.configMap) {
      const ref = source.configMap;
      const name = ref.name ?? '';
      const cm = await sources.configMap(ns, name);
      if (!cm && !ref.optional) fail(`configmap "${name}" not found`);
      const values: Record<string, string> = { ...(cm?.binaryData ?? {}) };
      for (const [k, val] of Object.entries(cm?.data ?? {})) values[k] = Buffer.from(val, 'utf8').toString('base64');
      add(makePayload(v.name, 'configmap', values, ref.items, defaultMode, !!ref.optional));
    } else if (source.secret) {
      const ref = source.secret;
      const name = ref.name ?? '';
      const data = await sources.secret(ns, name);
      if (!data && !ref.optional) fail(`secret "${name}" not found`);
      add(makePayload(v.name, 'secret', data ?? {}, ref.items, defaultMode, !!ref.optional));
    } else if (source.downwardAPI) {
      for (const item of source.downwardAPI.items ?? []) {
        const path = item.path ?? '';
        if (!validProjectionPath(path)) fail(`invalid path ${JSON.stringify(path)}`);
        if (!item.fieldRef) fail(`downwardAPI item "${path}": only fieldRef is supported by kumo`);
        const value = metadataFieldValue(pod.metadata, item.fieldRef!.fieldPath);
        if (value === undefined) fail(`downwardAPI item "${path}": unsupported fieldPath ${item.fieldRef!.fieldPath}`);
        out.set(path, { data: Buffer.from(value!, 'utf8'), mode: item.mode ?? defaultMode });
      }
    } else if (source.serviceAccountToken) {
      const src = source.serviceAccountToken;
      const path = src.path ?? '';
      if (!validProjectionPath(path)) fail(`invalid path ${JSON.stringify(path)}`);
      if (!tokens) fail('this node cannot request ServiceAccount tokens');
      const key = {
        namespace: ns,
        serviceAccount: pod.spec?.serviceAccountName ?? 'default',
        audience: src.audience ?? '',
        expirationSeconds: src.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
        pod: { name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
      };
      try {
        out.set(path, { data: Buffer.from(await tokens!.get(key), 'utf8'), mode: defaultMode });
      } catch (err) {
        if (!(err instanceof TokenFetchError)) throw err;
        throw new TokenVolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${err.message}`, { cause: err });
      }
    } else {
      fail('only configMap, secret, downwardAPI and serviceAccountToken projections are supported by kumo');
    }
  }
  return out;
}
