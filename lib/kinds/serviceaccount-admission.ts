/**
 * The ServiceAccount admission plugin, after kube's
 * plugin/pkg/admission/serviceaccount, on pod create:
 *
 * - mutating: a pod naming no ServiceAccount runs as `default`; unless
 *   automountServiceAccountToken is false (on the pod, else on the
 *   ServiceAccount) and when the server mounts tokens, every container and
 *   init container mounts the projected volume `kube-api-access-<5 random
 *   chars>` (token, ca.crt, namespace) read-only at
 *   /var/run/secrets/kubernetes.io/serviceaccount, unless it already mounts
 *   something there; a pod without imagePullSecrets gets its
 *   ServiceAccount's.
 * - validating: the ServiceAccount must exist (403 "error looking up service
 *   account NS/NAME: serviceaccount "NAME" not found"). The one exception is
 *   `default` before the controller has made it (see docs/serviceaccounts.md:
 *   kube waits up to ~2 s for it; kumo's controllers may run seconds behind
 *   a new namespace in the cloud, and the controller guarantees it comes).
 * - mirror pods (a node's static pods) are not changed, and may not name a
 *   ServiceAccount or use a token projection.
 */
import type { Pod, Volume } from '../api/core/v1/pod.js';
import { DEFAULT_SERVICE_ACCOUNT, type ServiceAccount } from '../api/core/v1/serviceaccount.js';
import { StatusError } from '../api/errors.js';
import { randomSuffix } from '../api/names.js';
import type { KObject } from '../api/object.js';
import type { AdmitContext } from './strategy.js';

export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** token.WarnOnlyBoundTokenExpirationSeconds: the projected token's lifetime as kube requests it. */
export const PROJECTED_TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** kube's TokenVolumeSource, named `name`. */
export function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: PROJECTED_TOKEN_EXPIRATION_SECONDS } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function forbidden(pod: KObject, why: string): StatusError {
  return StatusError.forbiddenObject({ group: '', resource: 'pods' }, pod.metadata.name ?? '', why);
}

/** Mirror pods may reference no ServiceAccount, Secret or token (kube's Validate for them). */
function checkMirrorPod(pod: Pod & KObject): void {
  const spec = pod.spec ?? {};
  if (spec.serviceAccountName) throw forbidden(pod, 'a mirror pod may not reference service accounts');
  const volumes = spec.volumes ?? [];
  if (volumes.some((v) => v.secret || (v.projected?.sources ?? []).some((s) => s.secret))) throw forbidden(pod, 'a mirror pod may not reference secrets');
  if (volumes.some((v) => (v.projected?.sources ?? []).some((s) => s.serviceAccountToken))) {
    throw forbidden(pod, 'a mirror pod may not use ServiceAccountToken volume projections');
  }
}

/** The pod's ServiceAccount, `undefined` for a `default` not made yet; throws kube's 403 for any other missing one. */
async function serviceAccountOf(pod: Pod & KObject, ctx: AdmitContext): Promise<(ServiceAccount & KObject) | undefined> {
  const ns = pod.metadata.namespace ?? '';
  const name = pod.spec!.serviceAccountName!;
  const sa = (await ctx.get({ group: '', resource: 'serviceaccounts' }, ns, name)) as (ServiceAccount & KObject) | undefined;
  if (!sa && name !== DEFAULT_SERVICE_ACCOUNT) {
    throw forbidden(pod, `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
  }
  return sa;
}

/** shouldAutomount: the pod's setting, else the ServiceAccount's, else yes. */
function shouldAutomount(sa: ServiceAccount | undefined, pod: Pod): boolean {
  const own = pod.spec?.automountServiceAccountToken;
  if (own !== undefined && own !== null) return own;
  const its = sa?.automountServiceAccountToken;
  return its === undefined || its === null ? true : its;
}

/** mountServiceAccountToken: the volume (an existing kube-api-access-* one, else a new name) in every container that has nothing at the path. */
function mountToken(pod: Pod): void {
  const spec = pod.spec!;
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const volumeName = existing?.name ?? `${TOKEN_VOLUME_PREFIX}${randomSuffix()}`;
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    needed = true;
  }
  if (!existing && needed) spec.volumes = [...(spec.volumes ?? []), tokenVolume(volumeName)];
}

/** The plugin's Admit and Validate on a pod's create (`old` undefined); updates are not its concern. */
export async function admitPodServiceAccount(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (old) return;
  const pod = obj as Pod & KObject;
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return checkMirrorPod(pod);
  pod.spec ??= {};
  // v1's deprecated serviceAccount names it when serviceAccountName does not, and mirrors it on the way out (kube's conversion).
  pod.spec.serviceAccountName ||= pod.spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  pod.spec.serviceAccount = pod.spec.serviceAccountName;
  const sa = await serviceAccountOf(pod, ctx);
  if (ctx.admission.mountServiceAccountToken && shouldAutomount(sa, pod)) mountToken(pod);
  if ((pod.spec.imagePullSecrets ?? []).length === 0 && (sa?.imagePullSecrets ?? []).length > 0) {
    pod.spec.imagePullSecrets = sa!.imagePullSecrets!.map((s) => ({ name: s.name ?? '' }));
  }
}

/**
 * On update, what this plugin set at creation is kept when a client
 * replacing the pod from its manifest leaves it out (the fields are
 * immutable): the ServiceAccount's name and the token volume with its
 * mounts. Mutates `pod`.
 */
export function keepServiceAccountAdmission(pod: Pod, prev: Pod): void {
  const spec = (pod.spec ??= {});
  const before = prev.spec ?? {};
  if (!spec.serviceAccountName && before.serviceAccountName) spec.serviceAccountName = before.serviceAccountName;
  if (!spec.serviceAccount && before.serviceAccount) spec.serviceAccount = before.serviceAccount;
  const volume = (before.volumes ?? []).find((v) => v.name.startsWith(TOKEN_VOLUME_PREFIX));
  if (!volume || (spec.volumes ?? []).some((v) => v.name === volume.name)) return;
  spec.volumes = [...(spec.volumes ?? []), volume];
  const mounted = (containers: typeof before.containers, name: string) =>
    (containers ?? []).find((c) => c.name === name)?.volumeMounts?.find((m) => m.name === volume.name);
  for (const [now, then] of [
    [spec.initContainers, before.initContainers],
    [spec.containers, before.containers],
  ] as const) {
    for (const c of now ?? []) {
      const m = mounted(then, c.name);
      if (m && !(c.volumeMounts ?? []).some((x) => x.mountPath === m.mountPath)) c.volumeMounts = [...(c.volumeMounts ?? []), m];
    }
  }
}
