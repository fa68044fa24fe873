/**
 * What every active namespace holds for its pods' identity, after kube's
 * serviceaccounts-controller and root-ca-cert-publisher:
 *
 * - the `default` ServiceAccount, created again when deleted;
 * - the `kube-root-ca.crt` ConfigMap, key `ca.crt`: the CA an in-cluster
 *   client must trust to reach the API server, put back when changed or
 *   deleted. Without a CA (the cloud until the in-cluster path names one) no
 *   ConfigMap is written.
 *
 * Both are keyed by namespace and skip a namespace that is terminating (its
 * content is being deleted; recreating it would hold the namespace up).
 */
import type { ConfigMap } from '../api/core/v1/configmap.js';
import type { Namespace } from '../api/core/v1/namespace.js';
import { DEFAULT_SERVICE_ACCOUNT } from '../api/core/v1/serviceaccount.js';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import { CONFLICT_RETRY_MS, type Reconciler, type ReconcileResult, type Watch } from '../controller-runtime/reconciler.js';
import { CONFIGMAPS, NAMESPACES, SERVICE_ACCOUNTS } from '../kinds/resources.js';
import { deepEqual } from '../util/json.js';

/** rootcacertpublisher's ConfigMap name, key and description annotation. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_KEY = 'ca.crt';
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** Namespaces that exist and are not being deleted: the keys of both controllers. */
async function activeNamespaces(client: KubeClient): Promise<string[]> {
  const list = await client.listAll<Namespace & KObject>(NAMESPACES, undefined);
  return list.items.filter((n) => !n.metadata.deletionTimestamp).map((n) => n.metadata.name!);
}

/** The namespace named `name` when it is active, else undefined. */
async function activeNamespace(client: KubeClient, name: string): Promise<(Namespace & KObject) | undefined> {
  const ns = await client.find<Namespace & KObject>(NAMESPACES, undefined, name);
  return ns && !ns.metadata.deletionTimestamp && ns.status?.phase !== 'Terminating' ? ns : undefined;
}

/** A namespace created or changed (reactivated), and a change of `resource` named `name` in it. */
function watchesFor(resource: string, name: string): Watch[] {
  return [
    { resource: storeResource(NAMESPACES), keys: (e) => (e.type === 'DELETED' ? [] : [e.object.metadata.name!]) },
    { resource, keys: (e) => (e.object.metadata.name === name ? [e.object.metadata.namespace ?? ''] : []) },
  ];
}

/** kube's ServiceAccountsController: a `default` ServiceAccount in every active namespace. */
export class ServiceAccountsController implements Reconciler {
  readonly name = 'serviceaccount';
  readonly watches = watchesFor(storeResource(SERVICE_ACCOUNTS), DEFAULT_SERVICE_ACCOUNT);

  constructor(private readonly client: KubeClient) {}

  listKeys(): Promise<string[]> {
    return activeNamespaces(this.client);
  }

  async reconcile(namespace: string): Promise<ReconcileResult | void> {
    if (!namespace || !(await activeNamespace(this.client, namespace))) return;
    if (await this.client.find(SERVICE_ACCOUNTS, namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      await this.client.create(SERVICE_ACCOUNTS, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT } });
    } catch (err) {
      // Another process made it, or the namespace began terminating meanwhile (403): either way nothing to do.
      if (!isAlreadyExists(err) && !isForbidden(err)) throw err;
    }
  }
}

/**
 * kube's root-ca-cert-publisher: `kube-root-ca.crt` with the CA in every
 * active namespace. `caPem` undefined: nothing is published (say so where the
 * controller is assembled).
 */
export class RootCACertPublisher implements Reconciler {
  readonly name = 'root-ca-cert-publisher';
  readonly watches = watchesFor(storeResource(CONFIGMAPS), ROOT_CA_CONFIGMAP);

  constructor(
    private readonly client: KubeClient,
    private readonly caPem: string,
  ) {}

  listKeys(): Promise<string[]> {
    return activeNamespaces(this.client);
  }

  async reconcile(namespace: string): Promise<ReconcileResult | void> {
    if (!namespace || !(await activeNamespace(this.client, namespace))) return;
    const data = { [ROOT_CA_KEY]: this.caPem };
    const cm = await this.client.find<ConfigMap & KObject>(CONFIGMAPS, namespace, ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await this.client.create(CONFIGMAPS, namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data,
        });
        return;
      }
      if (deepEqual(cm.data, data) && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION) return;
      // As kube: the data is replaced whole, other annotations are kept; resourceVersion makes it a compare-and-swap.
      const annotations = { ...(cm.metadata.annotations ?? {}), [DESCRIPTION_ANNOTATION]: DESCRIPTION };
      await this.client.update(CONFIGMAPS, { ...cm, metadata: { ...cm.metadata, annotations }, data, binaryData: null } as KObject);
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err) || isNotFound(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
      if (!isForbidden(err)) throw err;
    }
  }
}
