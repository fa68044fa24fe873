/**
 * Pod garbage collection: pods bound to a node that no longer exists are
 * force-deleted (no agent is left to finish their graceful deletion).
 */
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import type { OwnerIndex } from './owner-index.js';
import type { Reconciler, ReconcileResult, Watch, SharedCache } from '../controller-runtime/reconciler.js';
import { NODES, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

export class PodGarbageCollector implements Reconciler {
  readonly name = 'podgc';
  readonly watches: Watch[] = [{ resource: storeResource(NODES), keys: (e) => (e.type === 'DELETED' ? [e.object.metadata.name!] : []) }];

  readonly caches: SharedCache[];

  /** With a followed owner index (which holds every pod), resyncs read the nodes pods are bound to from it. */
  constructor(
    private readonly client: KubeClient,
    private readonly index?: OwnerIndex,
  ) {
    this.caches = index ? [index] : [];
  }

  async listKeys(): Promise<string[]> {
    const pods = this.index?.following
      ? ([...this.index.objects(storeResource(PODS))] as (Pod & KObject)[])
      : (await this.client.listAll<Pod & KObject>(PODS, undefined)).items;
    return [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))];
  }

  async reconcile(nodeName: string): Promise<ReconcileResult | void> {
    if (await this.client.find(NODES, undefined, nodeName)) return;
    const pods = (await this.client.listAll<Pod & KObject>(PODS, undefined, { fieldSelector: `spec.nodeName=${nodeName}` })).items;
    for (const pod of pods) {
      try {
        await this.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } });
      } catch (err) {
        if (!(isNotFound(err) || isConflict(err))) throw err;
      }
    }
  }
}
