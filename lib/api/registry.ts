/**
 * What a served resource is, as data: its group/version/kind, REST name,
 * scope, discovery details, schema, what the garbage collector and the
 * authorizer need to know of it; and the `ResourceRegistry`, the runtime
 * object that holds the served kinds. The kinds themselves (data and code:
 * strategy, columns, describer) are declared one module each in lib/kinds,
 * which builds the registry; the API server, discovery, OpenAPI, the garbage
 * collector and the printers read the registry they are given, so it may
 * grow while the server runs (custom resources).
 */
import type { WebhookClientConfig } from './admissionregistration/v1/webhookconfiguration.js';
import type { z } from 'zod';
import type { KObject } from './object.js';
import { storeResource } from './store-key.js';

export type Subresource = 'status' | 'scale' | 'binding' | 'log' | 'exec' | 'eviction' | 'attach' | 'portforward' | 'proxy' | 'ephemeralcontainers' | 'token';

/** What the garbage collector does with a kind's objects. */
export interface GarbageCollection {
  /** Its objects may carry ownerReferences the collector follows (it scans them, and the owner index holds them). */
  dependent: boolean;
  /** Its objects may own others: the collector follows their deletions (off for kinds nothing owns through, events and leases, to spare the feed). */
  owner: boolean;
}

/**
 * How the Node authorizer (lib/auth/authorizer.ts) scopes a kind; everyone
 * else is RBAC's. 'none': a node agent may not touch it; 'read': it may
 * get/list/watch it; 'own': the Node authorizer has per-object rules for it
 * (its own Node and Lease, pods bound to it, what they refer to).
 */
export interface AuthorizationScope {
  nodes: 'none' | 'read' | 'own';
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural REST name, unique within its group (with the group it keys the store: store-key.ts). */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  subresources: readonly Subresource[];
  schema: z.ZodType;
  garbageCollection: GarbageCollection;
  authorization: AuthorizationScope;
  /** A warning attached to every response about the resource (Kubernetes' deprecation warnings), if any. */
  deprecation?: string;
  /**
   * Its create answers from the request and stores nothing (kube's
   * rest.Creater without storage: TokenReview, SubjectAccessReview): no other
   * verb is served, discovery lists only `create`, and no store key holds it.
   */
  unstored?: true;
  /**
   * For a kind without a Go type (a custom resource): drops the fields its
   * schema does not declare from a decoded object, in place, and returns
   * their paths (for fieldValidation Warn/Strict). @default the zod schema's unknown fields
   */
  pruneUnknown?(value: Record<string, unknown>): string[];
  /** For a custom resource: the field labels its CRD's selectableFields declare (`spec.color` for `.spec.color`), read at that path. */
  selectableFields?: readonly string[];
  /** For a custom resource with the scale subresource: where its Scale's fields are (simple JSONPaths, `.spec.replicas`). @default `.spec.replicas`, `.status.replicas` and the selector of `.spec.selector` */
  scalePaths?: Readonly<{ specReplicas: string; statusReplicas: string; labelSelector?: string }>;
  /** For a kind without a Go type: its OpenAPI v3 schema, served in /openapi/v3 (kubectl explain). */
  openAPISchema?: Readonly<Record<string, unknown>>;
  /**
   * For a custom resource: the version its objects are stored in (every
   * served version shares one store key) and how an object converts between
   * versions (the CRD's conversion strategy; `Builtin`: a built-in kind
   * served in a second version, with its converter, as autoscaling/v1
   * HorizontalPodAutoscaler beside v2). Unset: stored as served.
   */
  conversion?: Readonly<
    | { storageVersion: string; strategy: 'None' }
    | { storageVersion: string; strategy: 'Webhook'; clientConfig: WebhookClientConfig }
    | { storageVersion: string; strategy: 'Builtin'; convert(obj: KObject, apiVersion: string): KObject }
  >;
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/**
 * The kinds served, one per group/version/resource, indexed five ways. `add`
 * refuses a group/version/resource or an apiVersion/kind already held, so an
 * index never points at a replaced entry; `remove` drops a kind from every
 * index (a deleted custom resource). A plural may be served by several
 * groups (`deployments` in apps and in a CRD's group) and a group/resource in
 * several versions (sharing one store key). `revision` counts changes, for
 * caches built from the registry (OpenAPI documents) to know they are stale.
 */
export class ResourceRegistry<T extends ResourceType = ResourceType> {
  private readonly types: T[] = [];
  private readonly byGVR = new Map<string, T>();
  private readonly byKind = new Map<string, T>();
  private readonly byResource = new Map<string, T[]>();
  private readonly byKey = new Map<string, T[]>();
  private changes = 0;

  constructor(types: Iterable<T> = []) {
    for (const t of types) this.add(t);
  }

  /** Registers a kind. Throws when its group/version/resource or its apiVersion/kind is taken. */
  add(t: T): void {
    const gvr = `${t.group}/${t.version}/${t.resource}`;
    const kindKey = `${apiVersionOf(t)}/${t.kind}`;
    if (this.byGVR.has(gvr)) throw new Error(`resource ${t.resource} in ${apiVersionOf(t)} is already registered`);
    if (this.byKind.has(kindKey)) throw new Error(`kind ${kindKey} is already registered`);
    this.types.push(t);
    this.byGVR.set(gvr, t);
    this.byKind.set(kindKey, t);
    push(this.byResource, t.resource, t);
    push(this.byKey, storeResource(t), t);
    this.changes++;
  }

  /** Unregisters a kind added before (the same object); does nothing for one it does not hold. */
  remove(t: T): void {
    const i = this.types.indexOf(t);
    if (i < 0) return;
    this.types.splice(i, 1);
    this.byGVR.delete(`${t.group}/${t.version}/${t.resource}`);
    this.byKind.delete(`${apiVersionOf(t)}/${t.kind}`);
    pull(this.byResource, t.resource, t);
    pull(this.byKey, storeResource(t), t);
    this.changes++;
  }

  /** How many times kinds were added or removed: a cache built at one revision is stale at another. */
  get revision(): number {
    return this.changes;
  }

  /** Every kind, in registration order (discovery's order). */
  all(): readonly T[] {
    return this.types;
  }

  lookupResource(group: string, version: string, resource: string): T | undefined {
    return this.byGVR.get(`${group}/${version}/${resource}`);
  }

  /** The registered kind serving `rt`'s group/version/resource (the same object, for a kind taken from this registry). */
  kindOf(rt: Pick<ResourceType, 'group' | 'version' | 'resource'>): T | undefined {
    return this.lookupResource(rt.group, rt.version, rt.resource);
  }

  lookupKind(apiVersion: string, kind: string): T | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  /** The first kind registered under this plural: a built-in before a custom resource of another group that shares it. */
  byName(resource: string): T | undefined {
    return this.byResource.get(resource)?.[0];
  }

  /**
   * The kind whose objects are stored under `key` (a storeResource value:
   * what store keys and change events name): of a resource served in several
   * versions, its storage version's.
   */
  byStoreKey(key: string): T | undefined {
    const held = this.byKey.get(key);
    return held?.find((t) => t.conversion === undefined || t.conversion.storageVersion === t.version) ?? held?.[0];
  }

  /**
   * Resolves what a user types (`po`, `pod`, `pods`, `deploy`,
   * `deployments.apps`, `foos.v2.example.com`, `Pod`) to a resource: the
   * first registered that matches, so a built-in before a custom resource of
   * another group, and a custom resource's preferred version first (its
   * versions are registered in priority order).
   */
  resolve(input: string): T | undefined {
    const lower = input.toLowerCase();
    const [name, ...qualifier] = lower.split('.');
    const suffix = qualifier.join('.');
    return this.types.find(
      (t) =>
        (suffix === '' || t.group === suffix || `${t.version}.${t.group}` === suffix) &&
        (t.resource === name || t.singular === name || t.shortNames.includes(name!) || t.kind.toLowerCase() === name),
    );
  }
}

function push<T>(index: Map<string, T[]>, key: string, t: T): void {
  const held = index.get(key);
  if (held) held.push(t);
  else index.set(key, [t]);
}

function pull<T>(index: Map<string, T[]>, key: string, t: T): void {
  const rest = (index.get(key) ?? []).filter((x) => x !== t);
  if (rest.length > 0) index.set(key, rest);
  else index.delete(key);
}
