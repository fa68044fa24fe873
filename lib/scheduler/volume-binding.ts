/**
 * The scheduler's half of delayed volume binding (kube's volumebinding
 * plugin, PreBind): once a node is chosen for a pod, each claim the pod
 * mounts that is not bound yet and whose StorageClass binds
 * WaitForFirstConsumer is annotated `volume.kubernetes.io/selected-node`
 * with that node; the volume controller then binds or provisions it for that
 * node. The pod is bound at once; the node agent waits to mount until the
 * claim is Bound (it retries a claim that is not). Before that, the
 * filter's half: the required node affinity of the PVs the pod's claims are
 * already bound to (boundVolumeAffinity), which each node must match.
 */
import { ANN_SELECTED_NODE, type PersistentVolume } from '../api/core/v1/persistentvolume.js';
import type { PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { VOLUME_BINDING_WAIT, type StorageClass } from '../api/storage/v1/storageclass.js';
import type { KubeClient } from '../client/client.js';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, STORAGE_CLASSES } from '../kinds/resources.js';
import type { VolumeAffinity } from './algorithm.js';

type PVC = PersistentVolumeClaim & KObject;

/** Annotates the pod's unbound WaitForFirstConsumer claims with `node`; safe to repeat (an annotated claim is left alone). */
export async function selectNodeForClaims(client: KubeClient, pod: Pod & KObject, node: string): Promise<void> {
  const ns = pod.metadata.namespace ?? 'default';
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName;
    if (!name) continue;
    const claim = await client.find<PVC>(PERSISTENT_VOLUME_CLAIMS, ns, name);
    if (!claim || claim.spec?.volumeName || claim.metadata.annotations?.[ANN_SELECTED_NODE]) continue;
    const cls = claim.spec?.storageClassName;
    const sc = cls ? await client.find<StorageClass & KObject>(STORAGE_CLASSES, undefined, cls) : undefined;
    if (sc?.volumeBindingMode !== VOLUME_BINDING_WAIT) continue;
    await client.update(PERSISTENT_VOLUME_CLAIMS, {
      ...claim,
      metadata: { ...claim.metadata, annotations: { ...(claim.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: node } },
    });
  }
}

/** The required node affinity of each PV the pod's claims are bound to (none for a pod without claims: no reads). */
export async function boundVolumeAffinity(client: KubeClient, pod: Pod & KObject): Promise<VolumeAffinity> {
  const ns = pod.metadata.namespace ?? 'default';
  const out: VolumeAffinity[number][] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName;
    if (!name) continue;
    const volumeName = (await client.find<PVC>(PERSISTENT_VOLUME_CLAIMS, ns, name))?.spec?.volumeName;
    if (!volumeName) continue;
    const terms = (await client.find<PersistentVolume & KObject>(PERSISTENT_VOLUMES, undefined, volumeName))?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
    if (terms) out.push(terms);
  }
  return out;
}
