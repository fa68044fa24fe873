/**
 * The persistent volume controller (Kubernetes' PV binder, protection
 * controllers and, on `kumo up`, a local-path provisioner):
 *
 * - a claim is bound to the smallest Available PersistentVolume that fits it
 *   (class, access modes, volume mode, size); the PV's claimRef is written
 *   first (compare-and-swap), then the claim's volumeName, then both
 *   statuses, so two binders at once can never give one PV to two claims;
 * - a claim whose StorageClass binds WaitForFirstConsumer waits (Pending,
 *   event WaitForFirstConsumer) until the scheduler has put a pod using it
 *   on a node and annotated it `volume.kubernetes.io/selected-node`;
 * - with a local path root (kumo up), a claim that nothing fits gets a new PV
 *   when its class's provisioner is the local-path one (the class named
 *   `local-path`, or no class at all, needs no StorageClass object): a
 *   directory under the root, as Rancher's local-path provisioner does, with
 *   the class's reclaim policy. Delete removes the PV, and its directory,
 *   once the claim is gone. The data lives on the host, so it outlives pods
 *   and survives rescheduling on the same host. A directory has no size: a
 *   grown claim (expansion) is recorded on the PV and the claim's status;
 * - a claim of a class whose provisioner kumo does not run waits for an
 *   external provisioner, or an administrator, to make a PV (event
 *   ExternalProvisioning), as kube's binder says;
 * - the `kubernetes.io/pvc-protection` finalizer goes once no running pod
 *   uses a deleted claim, `kubernetes.io/pv-protection` once a deleted PV is
 *   bound to nothing.
 *
 * Keys are `pvc:<ns>/<name>` and `pv:<name>`.
 */
import { rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  PV_PROTECTION,
  type PersistentVolume,
} from '../api/core/v1/persistentvolume.js';
import { PVC_PROTECTION, type PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { parseQuantity } from '../api/quantity.js';
import { VOLUME_BINDING_WAIT, type StorageClass } from '../api/storage/v1/storageclass.js';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODS, STORAGE_CLASSES } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { isTerminal } from './pod-util.js';
import type { ChangeEvent, Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';

/** The class the local-path provisioner serves (also claims of no class). */
export const LOCAL_PATH_CLASS = 'local-path';
export const LOCAL_PATH_PROVISIONER = 'kumo.io/local-path';
/** The default StorageClass `kumo up` creates: the local-path provisioner, WaitForFirstConsumer. */
export const LOCAL_DEFAULT_CLASS = 'kumo-local-path';

type PVC = PersistentVolumeClaim & KObject;
type PV = PersistentVolume & KObject;
type P = Pod & KObject;
type SC = StorageClass & KObject;

export interface VolumeControllerOptions {
  /** Directory under which the local-path provisioner creates volumes; unset: no provisioning (bind only). */
  localPathRoot?: string;
}

function claimsOf(pod: P): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

function storageOf(q: unknown): number {
  return parseQuantity(q as string | number | undefined) ?? 0;
}

function classOf(o: PV | PVC): string {
  return o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? o.spec?.storageClassName ?? '';
}

/** Whether `pv` can serve `claim` (Kubernetes' findMatchingVolume, without selectors and node affinity). */
export function fits(pv: PV, claim: PVC): boolean {
  if (pv.metadata.deletionTimestamp) return false;
  const ref = pv.spec?.claimRef;
  if (ref && !(ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid))) return false;
  if (!ref && pv.status?.phase !== 'Available') return false;
  // A PV made for this very claim (claimRef with its uid: provisioned) carries the class the claim left unset.
  const madeFor = !!ref?.uid && ref.uid === claim.metadata.uid && !claim.spec?.storageClassName;
  if (!madeFor && classOf(pv) !== classOf(claim)) return false;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem')) return false;
  const modes = pv.spec?.accessModes ?? [];
  if (!(claim.spec?.accessModes ?? []).every((m) => modes.includes(m))) return false;
  return storageOf(pv.spec?.capacity?.storage) >= storageOf(claim.spec?.resources?.requests?.storage);
}

export class VolumeController implements Reconciler {
  readonly name = 'persistentvolume';
  readonly watches: Watch[];

  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly opts: VolumeControllerOptions = {},
  ) {
    this.watches = [
      {
        resource: storeResource(PERSISTENT_VOLUME_CLAIMS),
        keys: (e) => {
          const volumeName = (e.object as PVC).spec?.volumeName;
          return [`pvc:${e.object.metadata.namespace}/${e.object.metadata.name}`, ...(volumeName ? [`pv:${volumeName}`] : [])];
        },
      },
      {
        resource: storeResource(PERSISTENT_VOLUMES),
        keys: (e) => {
          const ref = (e.object as PV).spec?.claimRef;
          return [`pv:${e.object.metadata.name}`, ...(ref?.name ? [`pvc:${ref.namespace}/${ref.name}`] : [])];
        },
      },
      // A pod that stops using claims may release a deleted claim's finalizer.
      { resource: storeResource(PODS), keys: (e) => this.podClaims(e) },
    ];
  }

  private podClaims(e: ChangeEvent): string[] {
    const pod = e.object as P;
    if (e.type !== 'DELETED' && !isTerminal(pod)) return [];
    return claimsOf(pod).map((c) => `pvc:${pod.metadata.namespace}/${c}`);
  }

  async listKeys(): Promise<string[]> {
    const claims = await this.client.listAll<PVC>(PERSISTENT_VOLUME_CLAIMS, undefined);
    const volumes = await this.client.listAll<PV>(PERSISTENT_VOLUMES, undefined);
    return [...claims.items.map((c) => `pvc:${c.metadata.namespace}/${c.metadata.name}`), ...volumes.items.map((v) => `pv:${v.metadata.name}`)];
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    try {
      if (key.startsWith('pvc:')) {
        const [ns, name] = key.slice(4).split('/');
        return await this.claim(ns!, name!);
      }
      if (key.startsWith('pv:')) return await this.volume(key.slice(3));
    } catch (err) {
      // A lost compare-and-swap: read again shortly.
      if (isConflict(err) || isNotFound(err)) return { requeueAfterMs: 100 };
      throw err;
    }
  }

  private async claim(ns: string, name: string): Promise<ReconcileResult | void> {
    const claim = await this.client.find<PVC>(PERSISTENT_VOLUME_CLAIMS, ns, name);
    if (!claim) return;
    if (claim.metadata.deletionTimestamp) return this.releaseClaimProtection(claim);
    const volumeName = claim.spec?.volumeName;
    if (volumeName) {
      const pv = await this.client.find<PV>(PERSISTENT_VOLUMES, undefined, volumeName);
      if (!pv) return this.setClaimStatus(claim, { phase: 'Lost' });
      // Bound from our side: make sure the PV points back, then report.
      const ref = pv.spec?.claimRef;
      if (!ref) {
        await this.client.update(PERSISTENT_VOLUMES, { ...pv, spec: { ...pv.spec, claimRef: this.claimRef(claim) } });
        return;
      }
      if (ref.name !== name || ref.namespace !== ns || (ref.uid && ref.uid !== claim.metadata.uid)) return this.setClaimStatus(claim, { phase: 'Lost' });
      if (await this.expand(claim, pv)) return;
      return this.setClaimStatus(claim, { phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: { ...(pv.spec?.capacity ?? {}) } });
    }
    const cls = claim.spec?.storageClassName;
    const sc = cls ? await this.client.find<SC>(STORAGE_CLASSES, undefined, cls) : undefined;
    // kube's binder delays binding and provisioning alike until the scheduler has chosen a node.
    if (sc?.volumeBindingMode === VOLUME_BINDING_WAIT && !claim.metadata.annotations?.[ANN_SELECTED_NODE]) {
      await this.recorder.record(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return this.setClaimStatus(claim, { phase: 'Pending' });
    }
    const volumes = (await this.client.listAll<PV>(PERSISTENT_VOLUMES, undefined)).items;
    // A PV already reserved for this claim (claimRef set, our crash in between) comes first.
    const mine = volumes.find((v) => fits(v, claim) && v.spec?.claimRef);
    const free = volumes.filter((v) => fits(v, claim)).sort((a, b) => storageOf(a.spec?.capacity?.storage) - storageOf(b.spec?.capacity?.storage));
    const pv = mine ?? free[0];
    if (pv) return this.bind(claim, pv);
    const localPath = sc ? sc.provisioner === LOCAL_PATH_PROVISIONER : cls === undefined || cls === null || cls === LOCAL_PATH_CLASS;
    if (this.opts.localPathRoot && localPath) return this.provision(claim, sc);
    if (sc) {
      await this.recorder.record(
        claim,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${sc.provisioner ?? ''}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return this.setClaimStatus(claim, { phase: 'Pending' });
    }
    await this.recorder.record(
      claim,
      'Normal',
      'FailedBinding',
      cls ? `storageclass.storage.k8s.io "${cls}" not found` : 'no persistent volumes available for this claim and no storage class is set',
    );
    return this.setClaimStatus(claim, { phase: 'Pending' });
  }

  private claimRef(claim: PVC) {
    return {
      kind: 'PersistentVolumeClaim',
      namespace: claim.metadata.namespace ?? '',
      name: claim.metadata.name ?? '',
      uid: claim.metadata.uid ?? '',
      apiVersion: 'v1',
      resourceVersion: claim.metadata.resourceVersion ?? '',
    };
  }

  /** PV first (its claimRef is the reservation), then the claim, then statuses. */
  private async bind(claim: PVC, pv: PV): Promise<ReconcileResult | void> {
    let bound = pv;
    if (!pv.spec?.claimRef) {
      bound = await this.client.update<PV>(PERSISTENT_VOLUMES, {
        ...pv,
        metadata: { ...pv.metadata, annotations: { ...(pv.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' } },
        spec: { ...pv.spec, claimRef: this.claimRef(claim) },
      });
    }
    if (bound.status?.phase !== 'Bound') await this.client.updateStatus(PERSISTENT_VOLUMES, { ...bound, status: { ...(bound.status ?? {}), phase: 'Bound' } });
    const updated = await this.client.update<PVC>(PERSISTENT_VOLUME_CLAIMS, {
      ...claim,
      metadata: { ...claim.metadata, annotations: { ...(claim.metadata.annotations ?? {}), [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' } },
      spec: {
        ...claim.spec,
        volumeName: pv.metadata.name!,
        ...(claim.spec?.storageClassName === undefined && classOf(pv) ? { storageClassName: classOf(pv) } : {}),
      },
    });
    await this.setClaimStatus(updated, { phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: { ...(pv.spec?.capacity ?? {}) } });
  }

  /**
   * A bound claim asking for more than its local-path PV holds: the PV's
   * capacity is raised to the request (a directory has no size to grow; the
   * claim's status follows the PV on the next pass). Admission has already
   * checked that the class allows expansion. Returns whether it wrote.
   */
  private async expand(claim: PVC, pv: PV): Promise<boolean> {
    const want = claim.spec?.resources?.requests?.storage;
    if (pv.metadata.annotations?.[ANN_PROVISIONED_BY] !== LOCAL_PATH_PROVISIONER) return false;
    if (storageOf(want) <= storageOf(pv.spec?.capacity?.storage)) return false;
    await this.client.update(PERSISTENT_VOLUMES, { ...pv, spec: { ...pv.spec, capacity: { ...(pv.spec?.capacity ?? {}), storage: String(want) } } });
    await this.recorder.record(claim, 'Normal', 'VolumeResizeSuccessful', 'resize volume succeeded');
    return true;
  }

  private async provision(claim: PVC, sc: SC | undefined): Promise<ReconcileResult | void> {
    const name = `pvc-${claim.metadata.uid}`;
    const path = join(resolve(this.opts.localPathRoot!), `${name}_${claim.metadata.namespace}_${claim.metadata.name}`);
    const pv: PV = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
      spec: {
        capacity: { storage: String(claim.spec?.resources?.requests?.storage ?? '1Gi') },
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: sc?.reclaimPolicy ?? 'Delete',
        storageClassName: sc?.metadata.name ?? LOCAL_PATH_CLASS,
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        hostPath: { path, type: 'DirectoryOrCreate' },
        claimRef: this.claimRef(claim),
      },
    };
    await this.recorder.record(
      claim,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}"`,
    );
    try {
      await this.client.create(PERSISTENT_VOLUMES, undefined, pv);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    await this.recorder.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
    // The PV's creation queues this claim again (its claimRef names it); binding happens then.
  }

  private async setClaimStatus(claim: PVC, status: NonNullable<PersistentVolumeClaim['status']>): Promise<void> {
    const cur = claim.status ?? {};
    const next = { ...cur, ...status };
    if (JSON.stringify(next) === JSON.stringify(cur)) return;
    await this.client.updateStatus(PERSISTENT_VOLUME_CLAIMS, { ...claim, status: next });
  }

  /** A deleted claim keeps its finalizer while a pod that is not finished uses it. */
  private async releaseClaimProtection(claim: PVC): Promise<ReconcileResult | void> {
    if (!(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION)) return;
    const pods = (await this.client.listAll<P>(PODS, claim.metadata.namespace)).items;
    if (pods.some((p) => !isTerminal(p) && claimsOf(p).includes(claim.metadata.name ?? ''))) return;
    await this.client.update(PERSISTENT_VOLUME_CLAIMS, {
      ...claim,
      metadata: { ...claim.metadata, finalizers: (claim.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION) },
    });
  }

  private async volume(name: string): Promise<ReconcileResult | void> {
    const pv = await this.client.find<PV>(PERSISTENT_VOLUMES, undefined, name);
    if (!pv) return;
    const ref = pv.spec?.claimRef;
    let claim: PVC | undefined;
    if (ref?.name) {
      claim = await this.client.find<PVC>(PERSISTENT_VOLUME_CLAIMS, ref.namespace ?? '', ref.name);
      if (claim && ref.uid && claim.metadata.uid !== ref.uid) claim = undefined;
    }
    if (pv.metadata.deletionTimestamp) {
      if ((pv.metadata.finalizers ?? []).includes(PV_PROTECTION) && !(claim && claim.spec?.volumeName === name)) {
        await this.client.update(PERSISTENT_VOLUMES, {
          ...pv,
          metadata: { ...pv.metadata, finalizers: (pv.metadata.finalizers ?? []).filter((f) => f !== PV_PROTECTION) },
        });
      }
      return;
    }
    let phase: string;
    if (!ref) phase = 'Available';
    else if (claim && claim.spec?.volumeName === name) phase = 'Bound';
    else if (claim) phase = pv.status?.phase === 'Bound' ? 'Bound' : 'Available';
    else phase = 'Released';
    if (phase === 'Released' && pv.spec?.persistentVolumeReclaimPolicy === 'Delete') return this.reclaim(pv);
    if (pv.status?.phase !== phase) await this.client.updateStatus(PERSISTENT_VOLUMES, { ...pv, status: { ...(pv.status ?? {}), phase } });
  }

  /** Reclaim policy Delete: the PV goes, and a local-path volume's directory with it. */
  private async reclaim(pv: PV): Promise<void> {
    const path = pv.spec?.hostPath?.path;
    const root = this.opts.localPathRoot ? resolve(this.opts.localPathRoot) : undefined;
    if (pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER && path && root && resolve(path).startsWith(root + sep)) {
      rmSync(path, { recursive: true, force: true });
    }
    try {
      await this.client.delete(PERSISTENT_VOLUMES, undefined, pv.metadata.name!, { preconditions: { uid: pv.metadata.uid! } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
