/**
 * Per-kind behaviour of the generic REST path, after the Kubernetes
 * apiserver's RESTCreateStrategy / RESTUpdateStrategy / RESTDeleteStrategy.
 * Every hook is optional; the generic path (lib/apiserver/rest.ts) applies
 * the shared metadata rules itself.
 */
import type { PropagationPolicy } from '../api/meta/v1/delete-options.js';
import type { KObject } from '../api/object.js';
import type { FieldError } from '../api/field-errors.js';
import type { GroupResource } from '../api/store-key.js';
import type { Store } from '../store/types.js';
import type { Authorizer, UserInfo } from '../api/request.js';

export interface StrategyContext {
  /** Milliseconds since the epoch, from the server's injected clock. */
  now: number;
  /** Admission defaults the server is configured with. */
  admission: AdmissionConfig;
}

export interface AdmissionConfig {
  /** Where Services' ClusterIPs come from (kube-apiserver's --service-cluster-ip-range). @default 10.96.0.0/12 */
  serviceClusterIPRange?: string;
  /** Where Services' node ports come from (--service-node-port-range). @default 30000-32767 */
  serviceNodePortRange?: string;
  /** DefaultTolerationSeconds for the not-ready/unreachable NoExecute tolerations added to pods. @default 300 */
  defaultTolerationSeconds: number;
  /**
   * Accept loopback addresses in Endpoints and EndpointSlices, which
   * Kubernetes refuses: `kumo up`'s nodes have the address 127.0.0.1, so its
   * process-runtime and hostNetwork pods do too, and their Services need
   * them. Unspecified and link-local addresses stay refused. @default false
   */
  loopbackEndpoints?: boolean;
  /**
   * ServiceAccount admission mounts the `kube-api-access-*` projected token
   * volume into pods (kube's plugin's MountServiceAccountToken). @default false
   * until the agent writes serviceAccountToken projections (docs/serviceaccounts.md)
   */
  mountServiceAccountToken?: boolean;
}

/**
 * What a strategy's allocate and afterWrite hooks see: the store (where a kind
 * keeps records of what it reserved, beside its objects), the objects of the
 * kind that exist now, and the server's configuration.
 */
export interface WriteHookContext {
  store: Store;
  existing(): Promise<KObject[]>;
  admission: AdmissionConfig;
}

/** What an admission hook reads: the objects of any kind, from the store. */
export interface AdmitContext {
  /** Every object of a resource (its group and plural), across namespaces or in one. */
  list(resource: GroupResource, namespace?: string): Promise<KObject[]>;
  /** One object of a resource, or undefined when there is none. */
  get(resource: GroupResource, namespace: string | undefined, name: string): Promise<KObject | undefined>;
  /** The server's admission settings. */
  admission: AdmissionConfig;
  /** Who writes; unset for the server's own writes (bootstrap), which admission does not restrict. */
  user?: UserInfo;
  /** The server's authorizer, when it has one: RBAC's escalation checks ask it for `escalate`, `bind` and the writer's rules. */
  authorizer?: Authorizer;
}

export interface Strategy {
  /** Kubernetes' SetDefaults_<Kind>: fills unset fields in place. Runs on every write of the main resource. */
  defaults?(obj: KObject): void;
  /** Clears or sets what a client may not decide on create (e.g. status). Mutates `obj`. */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /** Carries over what a main-resource update may not change (e.g. status). Mutates `obj`. */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** For the status subresource: builds the object to store from the old one and the request. @default old object with the request's status */
  prepareForStatusUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): KObject;
  /**
   * Assigns and reserves what must be unique across objects (a Service's
   * ClusterIP and node ports) on create (`old` undefined) and update.
   * Mutates `obj`. Returns an undo for when the write then fails.
   */
  allocate?(obj: KObject, old: KObject | undefined, ctx: WriteHookContext): Promise<() => Promise<void>>;
  /** After a successful write (`stored` undefined: deleted): frees what `prev` reserved and `stored` no longer uses. */
  afterWrite?(stored: KObject | undefined, prev: KObject | undefined, ctx: WriteHookContext): Promise<void>;
  /**
   * Kube's admission plugins for the kind that read other objects (Priority
   * admission): on create (`old` undefined) before prepareForCreate, and on an
   * update of the main resource before prepareForUpdate. May mutate `obj`;
   * throws a StatusError (Forbidden) to refuse.
   */
  admit?(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void>;
  validate?(obj: KObject, ctx: StrategyContext): FieldError[];
  /**
   * Kube's WarningsOnCreate / WarningsOnUpdate: what the client is told with
   * a `Warning: 299` header on a write of the main resource that is accepted
   * (`old` undefined on create). Never refuses; must not mutate.
   */
  warnings?(obj: KObject, old: KObject | undefined): string[];
  /** What only a create may not do (a pod's ephemeral containers come later, through their subresource). */
  validateCreate?(obj: KObject): FieldError[];
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
  validateStatusUpdate?(obj: KObject, old: KObject): FieldError[];
  /**
   * For graceful deletion: the grace period to apply given the one requested
   * (undefined when the request named none). Returning 0 or undefined deletes
   * at once.
   */
  gracePeriodSeconds?(obj: KObject, requested: number | undefined): number | undefined;
  /** Writes through a subresource that changes one part of the object (pods/ephemeralcontainers), by subresource name. */
  subresources?: Readonly<Record<string, SubresourceStrategy>>;
  /** Admission on delete: a reason to refuse it with 403 (NamespaceLifecycle keeps the system namespaces), else undefined. */
  forbidDelete?(obj: KObject): string | undefined;
  /** Whether something besides metadata.finalizers keeps a deleted object (namespaces: spec.finalizers). */
  holdsDeletion?(obj: KObject): boolean;
  /** Marks an object whose deletion is held (e.g. a namespace's phase Terminating). Mutates `obj`. */
  prepareForDelete?(obj: KObject): void;
  /** Deletion propagation when the request names none. @default 'Background' */
  defaultPropagation?: PropagationPolicy;
  /** The rule metadata.name follows (Kubernetes' Validate<Kind>Name), as messages for a bad name. @default DNS-1123 subdomain */
  nameRule?(name: string): string[];
  /** The kind has no metadata.generation: Kubernetes keeps one only for kinds with a spec it tracks (pods, workloads). */
  noGeneration?: boolean;
}

/**
 * An update through a subresource that owns one part of the object, after
 * Kubernetes' per-subresource strategies (podEphemeralContainersStrategy).
 */
export interface SubresourceStrategy {
  /** The object to store: the stored one with the part this subresource owns taken from the request (defaulted). Must not mutate `old`. */
  prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): KObject;
  /** Every error of the result, the whole object's included. */
  validateUpdate(obj: KObject, old: KObject): FieldError[];
}
