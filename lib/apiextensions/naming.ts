/**
 * Which of a CRD's names it may have, as kube's naming controller decides
 * (apiextensions-apiserver pkg/controller/status, calculateNamesAndConditions):
 * names are unique within a group only, so `deployments.example.com` may be
 * served beside apps' `deployments`. Plural, singular and short names share
 * one namespace (what kubectl resolves), kind and list kind another. A name
 * is refused when another CRD of the group (or a built-in kind of it) holds
 * it; the last refused name gives the condition's reason, as kube's checks
 * overwrite it in this order: plural, singular, short names, kind, list kind.
 */
import type { CustomResourceDefinition, CustomResourceDefinitionNames } from './types.js';

/** Names already held in one group: resource-like names (plural, singular, short names) and kind-like ones (kind, list kind). */
export interface GroupNames {
  resources: Set<string>;
  kinds: Set<string>;
}

export interface NamesCondition {
  type: 'NamesAccepted';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export function emptyGroupNames(): GroupNames {
  return { resources: new Set(), kinds: new Set() };
}

/** Adds the names a served resource holds to `held`. */
export function holdNames(held: GroupNames, names: CustomResourceDefinitionNames): void {
  for (const n of [names.plural, names.singular, ...(names.shortNames ?? [])]) if (n) held.resources.add(n);
  for (const n of [names.kind, names.listKind]) if (n) held.kinds.add(n);
}

/** kube's equalToAcceptedOrFresh: a name is fine when it is already this CRD's, or nobody else's. */
function inUse(requested: string | undefined, accepted: string | undefined, used: ReadonlySet<string>): string | undefined {
  if (requested === undefined || requested === accepted || !used.has(requested)) return undefined;
  return `"${requested}" is already in use`;
}

/** Go's utilerrors aggregate of messages: one as is, several (deduplicated) in brackets. */
function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/**
 * The names `crd` is given and its NamesAccepted condition, given the names
 * others in its group hold (`held`, not including its own). Accepted names
 * start from the status's and take each requested name that is free.
 */
export function acceptNames(crd: CustomResourceDefinition, held: GroupNames): { acceptedNames: CustomResourceDefinitionNames; condition: NamesCondition } {
  const requested = crd.spec.names ?? {};
  const accepted = crd.status?.acceptedNames ?? {};
  const next: CustomResourceDefinitionNames = { ...accepted };
  let refusal: { reason: string; message: string } | undefined;
  const check = (reason: string, message: string | undefined, take: () => void) => {
    if (message) refusal = { reason, message };
    else take();
  };
  check('PluralConflict', inUse(requested.plural, accepted.plural, held.resources), () => (next.plural = requested.plural));
  check('SingularConflict', inUse(requested.singular, accepted.singular, held.resources), () => (next.singular = requested.singular));
  const short = requested.shortNames ?? [];
  if (JSON.stringify(short) !== JSON.stringify(accepted.shortNames ?? [])) {
    const mine = new Set(accepted.shortNames ?? []);
    const refused = short.filter((n) => !mine.has(n)).flatMap((n) => inUse(n, '', held.resources) ?? []);
    check('ShortNamesConflict', refused.length > 0 ? aggregate(refused) : undefined, () => (next.shortNames = requested.shortNames ?? []));
  }
  check('KindConflict', inUse(requested.kind, accepted.kind, held.kinds), () => (next.kind = requested.kind));
  check('ListKindConflict', inUse(requested.listKind, accepted.listKind, held.kinds), () => (next.listKind = requested.listKind));
  if (requested.categories) next.categories = requested.categories;
  else delete next.categories;
  const condition: NamesCondition = refusal
    ? { type: 'NamesAccepted', status: 'False', ...refusal }
    : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  return { acceptedNames: next, condition };
}
