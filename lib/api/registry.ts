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
import type { z } from 'zod';
import { storeResource } from './store-key.js';

export type Subresource = 'status' | 'scale' | 'binding' | 'log' | 'exec' | 'eviction' | 'attach' | 'portforward' | 'proxy' | 'ephemeralcontainers';

/** What the garbage collector does with a kind's objects. */
export interface GarbageCollection {
  /** Its objects may carry ownerReferences the collector follows (it scans them, and the owner index holds them). */
  dependent: boolean;
  /** Its objects may own others: the collector follows their deletions (off for kinds nothing owns through, events and leases, to spare the feed). */
  owner: boolean;
}

/**
 * How the authorizer scopes a kind beyond the roles' common rules
 * (lib/auth/authorizer.ts). `nodes`: 'none' a node agent may not touch it,
 * 'read' it may get/list/watch it, 'own' the node authorizer has per-object
 * rules for it (its own Node and Lease, pods bound to it, what they refer to).
 * `viewers`: whether a cluster- or namespace-wide viewer may read it.
 */
export interface AuthorizationScope {
  nodes: 'none' | 'read' | 'own';
  viewers: 'read' | 'none';
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural REST name, unique across the groups kumo serves (it keys the store). */
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
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/**
 * The kinds served, indexed four ways. `add` refuses a resource or kind
 * already held, so an index never points at a replaced entry; `remove`
 * drops a kind from every index (a deleted custom resource). `revision`
 * counts changes, for caches built from the registry (OpenAPI documents)
 * to know they are stale.
 */
export class ResourceRegistry<T extends ResourceType = ResourceType> {
  private readonly types: T[] = [];
  private readonly byGVR = new Map<string, T>();
  private readonly byKind = new Map<string, T>();
  private readonly byResource = new Map<string, T>();
  private readonly byKey = new Map<string, T>();
  private changes = 0;

  constructor(types: Iterable<T> = []) {
    for (const t of types) this.add(t);
  }

  /** Registers a kind. Throws when its plural name or its apiVersion/kind is taken (the plural keys the store). */
  add(t: T): void {
    const kindKey = `${apiVersionOf(t)}/${t.kind}`;
    if (this.byResource.has(t.resource)) throw new Error(`resource ${t.resource} is already registered`);
    if (this.byKind.has(kindKey)) throw new Error(`kind ${kindKey} is already registered`);
    this.types.push(t);
    this.byGVR.set(`${t.group}/${t.version}/${t.resource}`, t);
    this.byKind.set(kindKey, t);
    this.byResource.set(t.resource, t);
    this.byKey.set(storeResource(t), t);
    this.changes++;
  }

  /** Unregisters a kind added before (the same object); does nothing for one it does not hold. */
  remove(t: T): void {
    const i = this.types.indexOf(t);
    if (i < 0) return;
    this.types.splice(i, 1);
    this.byGVR.delete(`${t.group}/${t.version}/${t.resource}`);
    this.byKind.delete(`${apiVersionOf(t)}/${t.kind}`);
    this.byResource.delete(t.resource);
    this.byKey.delete(storeResource(t));
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

  lookupKind(apiVersion: string, kind: string): T | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  byName(resource: string): T | undefined {
    return this.byResource.get(resource);
  }

  /** The kind whose objects are stored under `key` (a storeResource value: what store keys and change events name). */
  byStoreKey(key: string): T | undefined {
    return this.byKey.get(key);
  }

  /** Resolves what a user types (`po`, `pod`, `pods`, `deploy`, `deployments.apps`, `Pod`) to a resource. */
  resolve(input: string): T | undefined {
    const lower = input.toLowerCase();
    const [name, ...groupParts] = lower.split('.');
    const group = groupParts.join('.');
    return this.types.find(
      (t) =>
        (group === '' || t.group === group) && (t.resource === name || t.singular === name || t.shortNames.includes(name!) || t.kind.toLowerCase() === name),
    );
  }
}
