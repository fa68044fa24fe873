/**
 * What an object costs against a ResourceQuota, after kube's quota
 * evaluators (pkg/quota/v1/evaluator/core, pkg/quota/v1/generic): which of a
 * quota's resource names an evaluator tracks, the object's usage, which
 * scopes it falls in, and the constraints a pod must meet where cpu or
 * memory is quota'd. Pure: the admission plugin (lib/apiserver/quota) and the
 * quota controller (lib/controllers/resourcequota.ts) share it, so what one
 * charges the other recounts.
 */
import type { Pod, Container } from '../core/v1/pod.js';
import type { PersistentVolumeClaim } from '../core/v1/persistentvolumeclaim.js';
import type { ResourceQuota, ScopedResourceSelectorRequirement } from '../core/v1/resourcequota.js';
import type { Service } from '../core/v1/service.js';
import type { KObject } from '../object.js';
import { add, amount, amountsOf, mask, max, type Amounts } from './amounts.js';

/** A quota's scopes (scopes and scopeSelector together), as selector requirements. */
export function quotaScopes(q: ResourceQuota): ScopedResourceSelectorRequirement[] {
  return [...(q.spec?.scopes ?? []).map((s) => ({ scopeName: s, operator: 'Exists' })), ...(q.spec?.scopeSelector?.matchExpressions ?? [])];
}

export interface Evaluator {
  readonly group: string;
  readonly resource: string;
  /** Whether an update is charged (the difference from the old object), beside creates. */
  readonly chargesUpdates: boolean;
  /** The names among a quota's hard names that this evaluator tracks. */
  matchingResources(names: readonly string[]): string[];
  /** Whether the object falls in a scope (kinds without scopes never do: a scoped quota tracks pods only). */
  matchesScope(scope: ScopedResourceSelectorRequirement, obj: KObject): boolean;
  /** Why the object may not be admitted where `required` are quota'd ("must specify …"), or undefined. */
  constraints(required: readonly string[], obj: KObject): string | undefined;
  /** The object's usage; `now` (ms) decides whether a pod stuck terminating still counts. */
  usage(obj: KObject, now: number): Amounts;
}

/** generic.Matches: the quota tracks at least one of the evaluator's names, and every scope matches. */
export function quotaMatches(ev: Evaluator, q: ResourceQuota, obj: KObject): boolean {
  if (ev.matchingResources(Object.keys(q.status?.hard ?? {})).length === 0) return false;
  return quotaScopes(q).every((s) => ev.matchesScope(s, obj));
}

const one = () => amount(1000n);

/** The count name of a resource: count/pods, count/deployments.apps. */
export function countName(group: string, resource: string): string {
  return group === '' ? `count/${resource}` : `count/${resource}.${group}`;
}

/** The names kube tracked before count/… existed, for the kinds that have one. */
const LEGACY_COUNT_NAMES: Record<string, string> = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

/** generic.NewObjectCountEvaluator: one per object, on create only. */
function objectCountEvaluator(group: string, resource: string): Evaluator {
  const names = [countName(group, resource), ...(group === '' && LEGACY_COUNT_NAMES[resource] ? [LEGACY_COUNT_NAMES[resource]] : [])];
  return {
    group,
    resource,
    chargesUpdates: false,
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    matchesScope: () => false,
    constraints: () => undefined,
    usage: () => Object.fromEntries(names.map((n) => [n, one()])),
  };
}

// ---- pods ----

/** The compute names kube's quota and limit ranges share: each resource, and its requests. and limits. forms. */
export const COMPUTE_RESOURCE_NAMES = [
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
];
const POD_RESOURCES = ['count/pods', 'pods', ...COMPUTE_RESOURCE_NAMES];
const POD_RESOURCE_PREFIXES = ['hugepages-', 'requests.hugepages-'];
/** The names whose presence in a quota obliges every container to state them (kube's validationSet). */
const CONSTRAINED = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

/** helper.IsExtendedResourceName: a domain-qualified name outside kubernetes.io, not requests.-prefixed. */
function isExtendedResourceName(name: string): boolean {
  if (name.startsWith('requests.') || !name.includes('/')) return false;
  const domain = name.slice(0, name.indexOf('/'));
  return domain !== 'kubernetes.io' && !domain.endsWith('.kubernetes.io');
}

/** isExtendedResourceNameForQuota: requests.<extended>. */
function isExtendedQuotaName(name: string): boolean {
  return name.startsWith('requests.') && isExtendedResourceName(name.slice('requests.'.length));
}

/** podComputeUsageHelper: the quota names a set of requests and limits fills. */
function computeUsage(requests: Amounts, limits: Amounts): Amounts {
  const out: Amounts = { pods: one() };
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    if (requests[r]) {
      out[r] = requests[r];
      out[`requests.${r}`] = requests[r];
    }
    if (limits[r]) out[`limits.${r}`] = limits[r];
  }
  for (const [r, v] of Object.entries(requests)) {
    if (r.startsWith('hugepages-')) {
      out[r] = v;
      out[`requests.${r}`] = v;
    }
    if (isExtendedResourceName(r)) out[`requests.${r}`] = v;
  }
  return out;
}

/**
 * resourcehelper.PodRequests / PodLimits: containers summed, sidecars added,
 * each init container's peak as a floor, and the pod's overhead on top when
 * asked (quota counts it; LimitRanger does not). Overhead adds to a limit only
 * where the pod has one.
 */
export function podResources(pod: Pod, which: 'requests' | 'limits', withOverhead = true): Amounts {
  const of = (c: Container) => amountsOf(c.resources?.[which]);
  let total: Amounts = {};
  for (const c of pod.spec?.containers ?? []) total = add(total, of(c));
  let sidecars: Amounts = {};
  let initPeak: Amounts = {};
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy === 'Always') {
      total = add(total, of(c));
      sidecars = add(sidecars, of(c));
      initPeak = max(initPeak, sidecars);
    } else initPeak = max(initPeak, add(of(c), sidecars));
  }
  total = max(total, initPeak);
  if (!withOverhead) return total;
  const overhead = amountsOf(pod.spec?.overhead);
  return add(total, which === 'requests' ? overhead : mask(overhead, Object.keys(total)));
}

/** QuotaV1Pod: a pod in a terminal phase, or past its deletion grace period, is no longer charged for compute. */
export function podCounts(pod: Pod, now: number): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const deletion = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (deletion && grace !== undefined && grace !== null && now > Date.parse(deletion) + grace * 1000) return false;
  return true;
}

function isTerminating(pod: Pod): boolean {
  const ads = pod.spec?.activeDeadlineSeconds;
  return ads !== undefined && ads !== null && ads >= 0;
}

/** qos.GetPodQOS == BestEffort: no container requests or limits cpu or memory. */
export function isBestEffort(pod: Pod): boolean {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return all.every((c) =>
    ['requests', 'limits'].every((w) => {
      const list = amountsOf(c.resources?.[w as 'requests' | 'limits']);
      return !['cpu', 'memory'].some((r) => list[r] && list[r].milli !== 0n);
    }),
  );
}

/** ScopedResourceSelectorRequirementsAsSelector over {scopeName: value}. */
function selectorMatches(s: ScopedResourceSelectorRequirement, value: string): boolean {
  const values = s.values ?? [];
  switch (s.operator) {
    case 'In':
      return values.includes(value);
    case 'NotIn':
      return !values.includes(value);
    case 'Exists':
      return true;
    default:
      return false;
  }
}

function usesCrossNamespaceAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  const terms = [
    ...(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
    ...(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
  ];
  return terms.some((t) => (t?.namespaces?.length ?? 0) > 0 || t?.namespaceSelector);
}

const podEvaluator: Evaluator = {
  group: '',
  resource: 'pods',
  chargesUpdates: false,
  matchingResources: (input) => input.filter((n) => POD_RESOURCES.includes(n) || POD_RESOURCE_PREFIXES.some((p) => n.startsWith(p)) || isExtendedQuotaName(n)),
  matchesScope(scope, obj) {
    const pod = obj as Pod;
    switch (scope.scopeName) {
      case 'Terminating':
        return isTerminating(pod);
      case 'NotTerminating':
        return !isTerminating(pod);
      case 'BestEffort':
        return isBestEffort(pod);
      case 'NotBestEffort':
        return !isBestEffort(pod);
      case 'PriorityClass':
        return scope.operator === 'Exists' ? !!pod.spec?.priorityClassName : selectorMatches(scope, pod.spec?.priorityClassName ?? '');
      case 'CrossNamespacePodAffinity':
        return usesCrossNamespaceAffinity(pod);
      default:
        return false;
    }
  },
  // podEvaluator.Constraints: where cpu or memory is quota'd, each container states it.
  constraints(required, obj) {
    const pod = obj as Pod;
    const needed = CONSTRAINED.filter((r) => required.includes(r));
    if (needed.length === 0) return undefined;
    const missing = new Map<string, Set<string>>();
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      const has = computeUsage(amountsOf(c.resources?.requests), amountsOf(c.resources?.limits));
      for (const r of needed) if (!has[r]) missing.set(r, (missing.get(r) ?? new Set()).add(c.name));
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
  usage(obj, now) {
    const pod = obj as Pod;
    // count/pods tracks every pod stored; `pods` and compute only the live ones.
    const usage: Amounts = { 'count/pods': one() };
    if (!podCounts(pod, now)) return usage;
    return add(usage, computeUsage(podResources(pod, 'requests'), podResources(pod, 'limits')));
  },
};

// ---- services ----

const SERVICE_RESOURCES = ['services', 'count/services', 'services.nodeports', 'services.loadbalancers'];

const serviceEvaluator: Evaluator = {
  group: '',
  resource: 'services',
  chargesUpdates: true,
  matchingResources: (input) => input.filter((n) => SERVICE_RESOURCES.includes(n)),
  matchesScope: () => false,
  constraints: () => undefined,
  usage(obj) {
    const svc = obj as Service;
    const usage: Amounts = { services: one(), 'count/services': one() };
    const ports = svc.spec?.ports ?? [];
    const count = (n: number) => amount(BigInt(n) * 1000n);
    if (svc.spec?.type === 'NodePort') usage['services.nodeports'] = count(ports.length);
    if (svc.spec?.type === 'LoadBalancer') {
      // Without node ports allocated, only the ports that name one use one.
      const nodePorts = svc.spec.allocateLoadBalancerNodePorts === false ? ports.filter((p) => p.nodePort).length : ports.length;
      usage['services.nodeports'] = count(nodePorts);
      usage['services.loadbalancers'] = one();
    }
    return usage;
  },
};

// ---- persistent volume claims ----

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const PVC_RESOURCES = ['persistentvolumeclaims', 'count/persistentvolumeclaims', 'requests.storage'];

/** storagehelpers.GetPersistentVolumeClaimClass: the beta annotation first, then spec.storageClassName. */
function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
}

const claimEvaluator: Evaluator = {
  group: '',
  resource: 'persistentvolumeclaims',
  chargesUpdates: true,
  matchingResources: (input) =>
    input.filter(
      (n) => PVC_RESOURCES.includes(n) || n.endsWith(`${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`) || n.endsWith(`${STORAGE_CLASS_SUFFIX}requests.storage`),
    ),
  matchesScope: () => false,
  constraints: () => undefined,
  usage(obj) {
    const pvc = obj as PersistentVolumeClaim;
    const cls = claimClass(pvc);
    const usage: Amounts = { persistentvolumeclaims: one(), 'count/persistentvolumeclaims': one() };
    if (cls) usage[`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`] = one();
    const storage = amountsOf(pvc.spec?.resources?.requests).storage;
    if (storage) {
      usage['requests.storage'] = storage;
      if (cls) usage[`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`] = storage;
    }
    return usage;
  },
};

const SPECIFIC: readonly Evaluator[] = [podEvaluator, serviceEvaluator, claimEvaluator];

/** The evaluator of a resource: kube's for pods, services and claims, an object count for any other. */
export function evaluatorFor(group: string, resource: string): Evaluator {
  return SPECIFIC.find((e) => e.group === group && e.resource === resource) ?? objectCountEvaluator(group, resource);
}

/** The resources a quota's hard names are counted from (the quota controller lists these). */
export function resourcesOfQuota(names: readonly string[]): { group: string; resource: string }[] {
  const out = new Map<string, { group: string; resource: string }>();
  for (const ev of SPECIFIC) if (ev.matchingResources(names).length > 0) out.set(`${ev.group}/${ev.resource}`, ev);
  for (const n of names) {
    const legacy = Object.keys(LEGACY_COUNT_NAMES).find((r) => LEGACY_COUNT_NAMES[r] === n);
    const m = /^count\/([^.]+)(?:\.(.+))?$/.exec(n);
    const gr = legacy ? { group: '', resource: legacy } : m ? { group: m[2] ?? '', resource: m[1]! } : undefined;
    if (gr && !out.has(`${gr.group}/${gr.resource}`)) out.set(`${gr.group}/${gr.resource}`, gr);
  }
  return [...out.values()];
}
