/**
 * The namespace controller: a namespace being deleted (phase Terminating)
 * has everything in it deleted; once it is empty, its `kubernetes` finalizer
 * is removed through the finalize subresource and the namespace goes.
 */
import type { ResourceRegistry } from '../api/registry.js';
import type { Namespace } from '../api/core/v1/namespace.js';
import type { KObject } from '../api/object.js';
import { NAMESPACES } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { NAMESPACE_FINALIZER } from '../api/core/v1/namespace.js';
import { resourcePath, type KubeClient } from '../client/client.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';

export class NamespaceController implements Reconciler {
  readonly name = 'namespace';
  readonly watches: Watch[];

  constructor(
    private readonly client: KubeClient,
    /** The kinds whose objects a terminating namespace is emptied of (its namespaced ones). */
    private readonly kinds: ResourceRegistry,
  ) {
    this.watches = [
      { resource: storeResource(NAMESPACES), keys: (e) => (e.type !== 'DELETED' && e.object.metadata.deletionTimestamp ? [e.object.metadata.name!] : []) },
      // Content leaving a terminating namespace moves it forward.
      ...kinds
        .all()
        .filter((t) => t.namespaced && !t.unstored)
        .map((t): Watch => ({ resource: storeResource(t), keys: (e) => (e.type === 'DELETED' ? [e.object.metadata.namespace ?? ''] : []) })),
    ];
  }

  async listKeys(): Promise<string[]> {
    const list = await this.client.listAll(NAMESPACES, undefined);
    return list.items.filter((n) => n.metadata.deletionTimestamp).map((n) => n.metadata.name!);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    if (!name) return;
    const ns = await this.client.find<Namespace & KObject>(NAMESPACES, undefined, name);
    if (!ns || !ns.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const rt of this.kinds.all().filter((t) => t.namespaced && !t.unstored)) {
      const items = (await this.client.listAll(rt, name)).items;
      remaining += items.length;
      for (const obj of items) {
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(rt, name, obj.metadata.name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(isNotFound(err) || isConflict(err))) throw err;
        }
      }
    }
    if (remaining > 0) return { requeueAfterMs: 1_000 };
    if (!(ns.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) return;
    const finalized = { ...ns, spec: { ...(ns.spec ?? {}), finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER) } };
    await this.client.call({ method: 'PUT', path: resourcePath(NAMESPACES, undefined, name, 'finalize'), body: finalized });
  }
}
