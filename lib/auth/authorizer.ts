/**
 * What each kind of token may do (the API server's Authorizer hook). The
 * rules are few and fixed, not RBAC objects:
 *
 * - cluster admin (admin token without a namespace): everything.
 * - namespaced admin: every verb on namespaced resources of its namespace;
 *   of cluster-scoped ones only `get` of its own Namespace.
 * - view (cluster-wide or namespaced): get, list and watch (and pods/log),
 *   never Secrets (as Kubernetes' `view` role).
 * - node (after Kubernetes' Node authorizer and NodeRestriction admission):
 *   reads what an agent needs; writes only its own Node, its own Lease in
 *   kube-node-lease, the status of pods bound to it, deletion of pods bound
 *   to it, and events. Secrets and ConfigMaps only by `get`, and only those a
 *   pod bound to it refers to.
 * - node bootstrap (the node pool's shared token): only creating the token
 *   record of a new node (lib/auth/tokens.ts: one per node, never replaced).
 * - The token records' namespace (kumo-system) is for cluster admins alone,
 *   so no namespaced token can mint itself a wider one.
 * - Every authenticated user may create the reviews about itself
 *   (SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview:
 *   kube's system:basic-user, bound to system:authenticated), so `kubectl
 *   auth can-i` and `whoami` work for every token.
 * - Non-resource URLs (`/metrics`): cluster admins, and cluster-wide viewers
 *   by `get` (Kubernetes grants them only through a ClusterRoleBinding, so a
 *   namespaced token never reaches them).
 *
 * Returns undefined to allow, else the reason the API server puts in its 403.
 * Checks that need an object read it from the store, outside the write's own
 * transaction: a pod's node cannot change once set (binding is one-way), so
 * the only window is a pod deleted and recreated under the same name between
 * the check and the write, which the write's own preconditions (uid,
 * resourceVersion) catch for the agent's requests.
 */
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { StatusError } from '../api/errors.js';
import type { UserInfo, Authorizer, ResourceAttributes } from '../api/request.js';
import { StoreBusyError, type Store } from '../store/types.js';
import { nodeTokenId, recordOfSecret, TOKEN_NAMESPACE, tokenSecretName } from './tokens.js';
import { GROUPS, principalOf } from './users.js';
import { isBuiltin, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

/** The attributes the authorizer decides on (lib/api/request.ts). */
export type AuthorizationAttributes = ResourceAttributes;

/** The reads the authorizer makes. */
export interface AuthorizerReader {
  /** `resource` is a store key (storeResource). */
  get(resource: string, namespace: string, name: string): Promise<KObject | undefined>;
  /** Pods bound to `node` in `namespace`. */
  podsOnNode(node: string, namespace: string): Promise<KObject[]>;
}

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const READ = new Set(['get', 'list', 'watch']);
/** Non-resource URLs a cluster-wide viewer may get. */
const VIEWABLE_PATHS = new Set(['/metrics']);
const WRITE = new Set(['update', 'patch']);
/** The reviews every user may create about itself, by group and resource. */
const SELF_REVIEWS = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authentication.k8s.io/selfsubjectreviews',
]);

function busyAsStatus(err: unknown): never {
  if (err instanceof StoreBusyError) throw StatusError.tooManyRequests(`the server is busy: ${err.message}`);
  throw err;
}

/** Reads for the authorizer straight from the store (the byNode index for pods on a node). */
export function storeReader(store: Store): AuthorizerReader {
  return {
    get: (resource, namespace, name) => store.get({ resource, namespace, name }).catch(busyAsStatus),
    podsOnNode: async (node, namespace) => (await store.list(storeResource(PODS), { namespace, index: { nodeName: node } }).catch(busyAsStatus)).items,
  };
}

/** Names of the Secrets and ConfigMaps a pod refers to (volumes, env, envFrom, image pull secrets). */
export function podReferences(pod: KObject): { secrets: Set<string>; configMaps: Set<string> } {
  const spec = ((pod as Pod & KObject).spec ?? {}) as Record<string, unknown>;
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const add = (set: Set<string>, v: unknown) => {
    if (typeof v === 'string' && v !== '') set.add(v);
  };
  type Named = { name?: unknown } | null | undefined;
  for (const v of (spec.volumes as
    Record<string, { secretName?: unknown; name?: unknown; sources?: { secret?: Named; configMap?: Named }[] } | undefined>[] | undefined) ?? []) {
    add(secrets, v.secret?.secretName);
    add(configMaps, v.configMap?.name);
    for (const s of v.projected?.sources ?? []) {
      add(secrets, s.secret?.name);
      add(configMaps, s.configMap?.name);
    }
  }
  type Env = { env?: { valueFrom?: { secretKeyRef?: Named; configMapKeyRef?: Named } }[]; envFrom?: { secretRef?: Named; configMapRef?: Named }[] };
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of (spec[key] as Env[] | undefined) ?? []) {
      for (const e of c.env ?? []) {
        add(secrets, e.valueFrom?.secretKeyRef?.name);
        add(configMaps, e.valueFrom?.configMapKeyRef?.name);
      }
      for (const e of c.envFrom ?? []) {
        add(secrets, e.secretRef?.name);
        add(configMaps, e.configMapRef?.name);
      }
    }
  }
  for (const s of (spec.imagePullSecrets as Named[] | undefined) ?? []) add(secrets, s?.name);
  return { secrets, configMaps };
}

export class KumoAuthorizer implements Authorizer {
  constructor(private readonly reader: AuthorizerReader) {}

  async authorize(user: UserInfo, a: AuthorizationAttributes): Promise<string | undefined> {
    const p = principalOf(user);
    if (p.kind === 'cluster-admin') return undefined;
    if (a.verb === 'create' && !a.subresource && SELF_REVIEWS.has(`${a.apiGroup}/${a.resource}`) && user.groups.includes(GROUPS.authenticated))
      return undefined;
    if (touchesTokenNamespace(a)) {
      if (p.kind === 'bootstrap') return this.bootstrap(a);
      return `only cluster admins may access the ${TOKEN_NAMESPACE} namespace`;
    }
    switch (p.kind) {
      case 'admin':
        return namespaced(p.namespace, a, () => undefined);
      case 'view': {
        const canRead = () => readOnly(a);
        return p.namespace ? namespaced(p.namespace, a, canRead) : canRead();
      }
      case 'node':
        return this.node(p.node, a);
      case 'bootstrap':
        return 'a node bootstrap token may only enroll a node';
      case 'none':
        return 'the user has no role';
    }
  }

  async authorizeNonResource(user: UserInfo, a: { verb: string; path: string }): Promise<string | undefined> {
    const p = principalOf(user);
    switch (p.kind) {
      case 'cluster-admin':
        return undefined;
      case 'view':
        if (p.namespace) return `the token is confined to namespace "${p.namespace}"`;
        return a.verb === 'get' && VIEWABLE_PATHS.has(a.path) ? undefined : `viewers may only get ${[...VIEWABLE_PATHS].join(', ')}`;
      case 'admin':
        return `the token is confined to namespace "${p.namespace}"`;
      case 'node':
        return `node "${p.node}" may not ${a.verb} path "${a.path}"`;
      case 'bootstrap':
        return 'a node bootstrap token may only enroll a node';
      case 'none':
        return 'the user has no role';
    }
  }

  /** The bootstrap token creates the token record of a new node, and nothing else. */
  private bootstrap(a: AuthorizationAttributes): string | undefined {
    const refusal = 'a node bootstrap token may only create the token record of a new node';
    if (a.apiGroup !== '' || a.resource !== 'secrets' || a.verb !== 'create' || a.subresource || !a.object) return refusal;
    const record = recordOfSecret(a.object);
    if (!record || record.grant.role !== 'node' || record.id !== nodeTokenId(record.grant.node!) || record.grant.namespace) return refusal;
    if (a.object.metadata.name !== tokenSecretName(record.id)) return refusal;
    return undefined;
  }

  private async node(node: string, a: AuthorizationAttributes): Promise<string | undefined> {
    const r = a.resource;
    const verb = a.verb;
    const own = `node "${node}"`;
    // The per-resource rules are the built-in kinds': a custom resource named `pods` or `secrets` in a group of its own is none of them.
    switch (a.type && isBuiltin(a.type) ? r : undefined) {
      case 'nodes':
        if (READ.has(verb)) return undefined;
        if (verb === 'create') return a.object?.metadata.name === node ? undefined : `${own} may only register itself`;
        if (WRITE.has(verb) || verb === 'delete') return a.name === node ? undefined : `${own} may only modify its own Node object`;
        return `${own} may not ${verb} nodes`;
      case 'leases': {
        if (a.namespace !== NODE_LEASE_NAMESPACE) return `${own} may only use its lease in ${NODE_LEASE_NAMESPACE}`;
        const name = verb === 'create' ? a.object?.metadata.name : a.name;
        if ((verb === 'get' || verb === 'create' || WRITE.has(verb) || verb === 'delete') && name === node) return undefined;
        return `${own} may only use its own lease`;
      }
      case 'pods': {
        if (READ.has(verb) && !a.subresource) return undefined;
        const allowed = (WRITE.has(verb) && a.subresource === 'status') || (verb === 'delete' && !a.subresource);
        if (!allowed) return `${own} may only update the status of pods and delete pods`;
        const pod = await this.reader.get(storeResource(PODS), a.namespace ?? '', a.name ?? '');
        // A pod that does not exist changes nothing: let the request fail with its own 404.
        if (!pod) return undefined;
        const bound = ((pod as Pod & KObject).spec?.nodeName ?? '') === node;
        return bound ? undefined : `${own} may only change pods bound to it`;
      }
      case 'events':
        return verb === 'create' || WRITE.has(verb) ? undefined : `${own} may only write events`;
      case 'secrets':
      case 'configmaps': {
        if (verb !== 'get' || a.subresource || !a.namespace || !a.name) return `${own} may only get ${r} its pods refer to`;
        const pods = await this.reader.podsOnNode(node, a.namespace);
        const referred = pods.some((pod) => {
          const refs = podReferences(pod);
          return (r === 'secrets' ? refs.secrets : refs.configMaps).has(a.name!);
        });
        return referred ? undefined : `no pod bound to ${own} refers to ${r === 'secrets' ? 'secret' : 'configmap'} "${a.name}"`;
      }
      default:
        // What an agent reads besides its own objects (the node proxy reads Services and their slices; volumes read claims): the kind says.
        if (a.type?.authorization.nodes === 'read' && READ.has(verb)) return undefined;
        return `${own} may not ${verb} ${r}`;
    }
  }
}

/** Whether the resource lives in namespaces: the kind says when it is served; otherwise whether the request names one. */
function namespacedResource(a: AuthorizationAttributes): boolean {
  return a.type ? a.type.namespaced : a.namespace !== undefined;
}

function touchesTokenNamespace(a: AuthorizationAttributes): boolean {
  if (namespacedResource(a)) return a.namespace === TOKEN_NAMESPACE;
  if (a.apiGroup !== '' || a.resource !== 'namespaces') return false;
  return (a.verb === 'create' ? a.object?.metadata.name : a.name) === TOKEN_NAMESPACE;
}

function readOnly(a: AuthorizationAttributes): string | undefined {
  if (a.type?.authorization.viewers === 'none') return `viewers may not read ${a.resource}`;
  if (!READ.has(a.verb)) return `viewers may only get, list and watch`;
  if (a.subresource === 'exec') return 'viewers may not exec';
  return undefined;
}

/** Confines a namespaced token to its namespace; `rule` decides within it. */
function namespaced(ns: string, a: AuthorizationAttributes, rule: () => string | undefined): string | undefined {
  if (!namespacedResource(a)) {
    if (a.apiGroup === '' && a.resource === 'namespaces' && a.verb === 'get' && a.name === ns && !a.subresource) return undefined;
    return `the token is confined to namespace "${ns}"`;
  }
  if (a.namespace !== ns) return `the token is confined to namespace "${ns}"`;
  return rule();
}
