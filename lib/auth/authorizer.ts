/**
 * The authorizer chain of every API server with authentication, in kube's
 * union order (`--authorization-mode=Node,RBAC` behind the privileged-group
 * authorizer): the first step to allow or deny decides; a step with no
 * opinion passes the request on, and when none allows, the 403 carries the
 * reasons they gave.
 *
 * 1. system:masters may do anything (kube's privileged group: the
 *    deploy-time and `kumo up` admin tokens, the in-process control plane).
 * 2. Node bootstrap (the node pool's shared token): creating the token
 *    record of a new node (lib/auth/tokens.ts: one per node, never
 *    replaced); nothing else in kumo-system; elsewhere RBAC decides (it is
 *    authenticated, so discovery).
 * 3. The token records' namespace (kumo-system) is for system:masters
 *    alone: denied to everyone else whatever RBAC says, so no binding can
 *    let a user mint itself a token.
 * 4. Nodes (kube's Node authorizer with NodeRestriction's semantics): reads
 *    what an agent needs; writes only its own Node, its own Lease in
 *    kube-node-lease, the status of pods bound to it, deletion of pods bound
 *    to it, and events. Secrets and ConfigMaps only by `get`, and only those
 *    a pod bound to it refers to; likewise the ServiceAccounts of its pods
 *    (`get`) and their tokens (`create serviceaccounts/token`).
 * 5. RBAC (lib/auth/rbac/authorizer.ts): Roles, ClusterRoles and their
 *    bindings; kumo tokens stored before RBAC count as bound to `view` or
 *    `admin` by their grant (lib/auth/users.ts).
 *
 * Checks that need an object read it from the store, outside the write's own
 * transaction: a pod's node cannot change once set (binding is one-way), so
 * the only window is a pod deleted and recreated under the same name between
 * the check and the write, which the write's own preconditions (uid,
 * resourceVersion) catch for the agent's requests.
 */
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { StatusError } from '../api/errors.js';
import type { NonResourceAttributes, ResourceAttributes, SubjectRules, UserInfo } from '../api/request.js';
import { StoreBusyError, type Store } from '../store/types.js';
import { nodeTokenId, recordOfSecret, TOKEN_NAMESPACE, tokenSecretName } from './tokens.js';
import { GROUPS, principalOf } from './users.js';
import { ALLOW, type AuthorizerStep, type Decision, deny, noOpinion } from './decision.js';
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
const WRITE = new Set(['update', 'patch']);

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

/** The ServiceAccount a pod runs as (spec.serviceAccountName, or the deprecated spec.serviceAccount; `default` when neither is set). */
function serviceAccountOf(pod: KObject): string {
  const spec = ((pod as Pod & KObject).spec ?? {}) as { serviceAccountName?: string | null; serviceAccount?: string | null };
  return spec.serviceAccountName || spec.serviceAccount || 'default';
}

/** 1. kube's privileged-group authorizer. */
export const mastersStep: AuthorizerStep = {
  authorize: async (user) => (user.groups.includes(GROUPS.masters) ? ALLOW : noOpinion()),
  authorizeNonResource: async (user) => (user.groups.includes(GROUPS.masters) ? ALLOW : noOpinion()),
};

/** 2. The node bootstrap token creates the token record of a new node, and nothing else in kumo-system. */
export const bootstrapStep: AuthorizerStep = {
  async authorize(user, a) {
    if (principalOf(user).kind !== 'bootstrap') return noOpinion();
    if (!touchesTokenNamespace(a)) return noOpinion('a node bootstrap token may only enroll a node');
    const refusal = deny('a node bootstrap token may only create the token record of a new node');
    if (a.apiGroup !== '' || a.resource !== 'secrets' || a.verb !== 'create' || a.subresource || !a.object) return refusal;
    const record = recordOfSecret(a.object);
    if (!record || record.grant.role !== 'node' || record.id !== nodeTokenId(record.grant.node!) || record.grant.namespace) return refusal;
    if (a.object.metadata.name !== tokenSecretName(record.id)) return refusal;
    return ALLOW;
  },
  authorizeNonResource: async (user) => (principalOf(user).kind === 'bootstrap' ? noOpinion('a node bootstrap token may only enroll a node') : noOpinion()),
};

/** 3. kumo-system is for system:masters (allowed before this step) alone. */
export const tokenNamespaceGuard: AuthorizerStep = {
  authorize: async (_user, a) =>
    touchesTokenNamespace(a) ? deny(`only cluster admins (system:masters) may access the ${TOKEN_NAMESPACE} namespace`) : noOpinion(),
  authorizeNonResource: async () => noOpinion(),
};

/** 4. The Node authorizer: decides every request of a node's credential; no opinion on anyone else's. */
export class NodeAuthorizer implements AuthorizerStep {
  constructor(private readonly reader: AuthorizerReader) {}

  async authorize(user: UserInfo, a: AuthorizationAttributes): Promise<Decision> {
    const p = principalOf(user);
    if (p.kind !== 'node') return noOpinion();
    const why = await this.node(p.node, a);
    return why === undefined ? ALLOW : noOpinion(why);
  }

  async authorizeNonResource(user: UserInfo, a: NonResourceAttributes): Promise<Decision> {
    const p = principalOf(user);
    return p.kind === 'node' ? noOpinion(`node "${p.node}" may not ${a.verb} path "${a.path}"`) : noOpinion();
  }

  /** kube's Node authorizer cannot list what it allows. */
  async rulesFor(user: UserInfo): Promise<SubjectRules> {
    const node = principalOf(user).kind === 'node';
    return {
      resourceRules: [],
      nonResourceRules: [],
      incomplete: node,
      ...(node ? { evaluationError: 'node authorizer does not support user rule resolution' } : {}),
    };
  }

  private async node(node: string, a: AuthorizationAttributes): Promise<string | undefined> {
    const r = a.resource;
    const verb = a.verb;
    const own = `node "${node}"`;
    // The per-resource rules are the built-in kinds': a custom resource named `pods` or `secrets` in a group of its own is none of them.
    // A resource the server does not serve (a SubjectAccessReview may name one) is the built-in one when it is in the core group.
    const builtin = a.type ? isBuiltin(a.type) : a.apiGroup === '';
    switch (builtin ? r : undefined) {
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
      case 'serviceaccounts': {
        // kube's Node authorizer: a ServiceAccount a pod bound to the node runs as, by `get`, and tokens for it (NodeRestriction checks the pod a token is bound to).
        const token = verb === 'create' && a.subresource === 'token';
        if (!((verb === 'get' && !a.subresource) || token) || !a.namespace || !a.name)
          return `${own} may only get serviceaccounts its pods run as and create their tokens`;
        const pods = await this.reader.podsOnNode(node, a.namespace);
        const runs = pods.some((pod) => serviceAccountOf(pod) === a.name);
        return runs ? undefined : `no relationship found between node '${node}' and this object`;
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
