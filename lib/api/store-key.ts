/**
 * The name a resource's objects are stored under: the `resource` of an
 * ObjectKey, the first argument of the store's list, watch and
 * currentRevision, and what a change event's `resource` holds. Every caller
 * that reaches the store or its change feed for a resource computes it here.
 *
 * Plural names are unique within a group only: a custom resource may be
 * called `events`, `leases` or `deployments` in its own group. kube-apiserver
 * keeps its built-in kinds under their bare plural (`/registry/deployments`)
 * and custom resources under `<group>/<plural>`; kumo does the same:
 *
 * - the core group's resources keep the bare plural (`pods`, `events`): no
 *   custom resource can join the core group (a CRD's group is a dotted
 *   domain), so nothing else can take those names;
 * - the resources of other groups that kumo stored before keys were
 *   qualified keep the bare plural too, so data written by earlier versions
 *   reads unchanged (LEGACY_BARE_KEYS, frozen: never add to it);
 * - every other resource is stored under `<group>/<plural>`.
 *
 * A bare key never holds a `/` and a qualified one always does, and plurals
 * are DNS labels (no `/`), so two different resources never share a key.
 */

/** A resource as the store sees it: its API group ('' for core) and plural name. */
export interface GroupResource {
  group: string;
  resource: string;
}

/**
 * Non-core resources whose objects kumo kept under the bare plural before
 * keys carried the group (plural → group): existing state.db files and
 * DynamoDB tables hold them there. Frozen: a resource added later is stored
 * group-qualified.
 */
const LEGACY_BARE_KEYS: ReadonlyMap<string, string> = new Map([
  ['deployments', 'apps'],
  ['replicasets', 'apps'],
  ['jobs', 'batch'],
  ['leases', 'coordination.k8s.io'],
  ['endpointslices', 'discovery.k8s.io'],
]);

/** The store key of a resource: its bare plural for the core group and LEGACY_BARE_KEYS, else `<group>/<plural>`. */
export function storeResource(ref: GroupResource): string {
  if (ref.group === '' || LEGACY_BARE_KEYS.get(ref.resource) === ref.group) return ref.resource;
  return `${ref.group}/${ref.resource}`;
}

/**
 * The group and plural a store key names: the inverse of storeResource. A
 * bare key outside LEGACY_BARE_KEYS reads as the core group (kumo's own
 * records, such as Service allocations, are bare keys of no group).
 */
export function groupResourceOf(key: string): GroupResource {
  const cut = key.indexOf('/');
  if (cut >= 0) return { group: key.slice(0, cut), resource: key.slice(cut + 1) };
  return { group: LEGACY_BARE_KEYS.get(key) ?? '', resource: key };
}
