/**
 * What volume contents are made of: the sources the agent reads them from,
 * the files of a configMap or secret (Kubernetes' MakePayload), and the
 * error that keeps a pod ContainerCreating while a volume cannot be set up.
 */
import type { PersistentVolume } from '../../api/core/v1/persistentvolume.js';
import type { PersistentVolumeClaim } from '../../api/core/v1/persistentvolumeclaim.js';
import type { KObject } from '../../api/object.js';
import { type FileProjection, validProjectionPath } from './atomic-writer.js';

/** Where volume contents come from (the API, through the agent's client). */
export interface VolumeSources {
  /** The ConfigMap's data and binaryData (base64), or undefined if it does not exist. */
  configMap(namespace: string, name: string): Promise<{ data: Record<string, string>; binaryData: Record<string, string> } | undefined>;
  /** The Secret's data (base64), or undefined if it does not exist. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  claim(namespace: string, name: string): Promise<(PersistentVolumeClaim & KObject) | undefined>;
  persistentVolume(name: string): Promise<(PersistentVolume & KObject) | undefined>;
}

/** A volume that cannot be set up (yet): reported as a FailedMount event, retried. */
export class VolumeSetupError extends Error {
  override name = 'VolumeSetupError';
}

const DEFAULT_MODE = 0o644;

interface KeyToPath {
  key: string;
  path: string;
  mode?: number | null;
}

/** The files of a configMap/secret volume from the object's keys (base64 values), per Kubernetes' MakePayload. */
export function makePayload(
  volume: string,
  kind: 'configmap' | 'secret',
  values: Record<string, string>,
  items: readonly KeyToPath[] | null | undefined,
  defaultMode: number | null | undefined,
  optional: boolean,
): Map<string, FileProjection> {
  const mode = defaultMode ?? DEFAULT_MODE;
  const out = new Map<string, FileProjection>();
  if (!items || items.length === 0) {
    for (const [k, v] of Object.entries(values)) out.set(k, { data: Buffer.from(v, 'base64'), mode });
    return out;
  }
  for (const item of items) {
    const v = values[item.key];
    if (v === undefined) {
      if (optional) continue;
      const what = kind === 'configmap' ? 'configmap references non-existent config key' : 'references non-existent secret key';
      throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volume}" : ${what}: ${item.key}`);
    }
    if (!validProjectionPath(item.path))
      throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volume}" : invalid path ${JSON.stringify(item.path)}`);
    out.set(item.path, { data: Buffer.from(v, 'base64'), mode: item.mode ?? mode });
  }
  return out;
}
