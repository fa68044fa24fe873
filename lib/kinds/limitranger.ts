/**
 * The LimitRanger admission plugin (kube's plugin/pkg/admission/limitranger)
 * for pods (on create) and PersistentVolumeClaims (create and update): the
 * namespace's LimitRanges give each container the `type: Container`
 * defaults it leaves out (recorded in the `kubernetes.io/limit-ranger`
 * annotation), then min, max and maxLimitRequestRatio are enforced per
 * Container and per Pod, and storage min/max per claim, with kube's
 * messages. kube mutates and validates in two passes around the other
 * plugins; here both run in the kind's admit hook, so a pod that breaks a
 * limit is refused (403) before its other fields are validated (422).
 */
import { defaultContainerRequests } from '../api/core/v1/pod-defaults.js';
import type { LimitRange, LimitRangeItem } from '../api/core/v1/limitrange.js';
import type { PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { Container, Pod } from '../api/core/v1/pod.js';
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { amountsOf, formatAmount, parseAmount, type Amounts, type ResourceList } from '../api/quota/amounts.js';
import { podResources } from '../api/quota/evaluators.js';
import type { AdmitContext } from './strategy.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

const shown = (v: string | number | undefined) => {
  const a = parseAmount(v);
  return a ? formatAmount(a) : String(v);
};

/** minConstraint. */
function minConstraint(type: string, r: string, enforced: string | number, requests: Amounts, limits: Amounts): string | undefined {
  const min = parseAmount(enforced)!;
  const req = requests[r];
  const lim = limits[r];
  if (!req) return `minimum ${r} usage per ${type} is ${shown(enforced)}.  No request is specified`;
  if (req.milli < min.milli) return `minimum ${r} usage per ${type} is ${shown(enforced)}, but request is ${formatAmount(req)}`;
  if (lim && lim.milli < min.milli) return `minimum ${r} usage per ${type} is ${shown(enforced)}, but limit is ${formatAmount(lim)}`;
  return undefined;
}

/** maxConstraint. */
function maxConstraint(type: string, r: string, enforced: string | number, requests: Amounts, limits: Amounts): string | undefined {
  const max = parseAmount(enforced)!;
  const req = requests[r];
  const lim = limits[r];
  if (!lim) return `maximum ${r} usage per ${type} is ${shown(enforced)}.  No limit is specified`;
  if (lim.milli > max.milli) return `maximum ${r} usage per ${type} is ${shown(enforced)}, but limit is ${formatAmount(lim)}`;
  if (req && req.milli > max.milli) return `maximum ${r} usage per ${type} is ${shown(enforced)}, but request is ${formatAmount(req)}`;
  return undefined;
}

/** maxRequestConstraint: a claim's max applies to what it requests. */
function maxRequestConstraint(type: string, r: string, enforced: string | number, requests: Amounts): string | undefined {
  const max = parseAmount(enforced)!;
  const req = requests[r];
  if (!req) return `maximum ${r} usage per ${type} is ${shown(enforced)}.  No request is specified`;
  if (req.milli > max.milli) return `maximum ${r} usage per ${type} is ${shown(enforced)}, but request is ${formatAmount(req)}`;
  return undefined;
}

/** limitRequestRatioConstraint; the observed ratio prints as Go's %f. */
function ratioConstraint(type: string, r: string, enforced: string | number, requests: Amounts, limits: Amounts): string | undefined {
  const ratio = parseAmount(enforced)!;
  const req = requests[r];
  const lim = limits[r];
  if (!req || req.milli === 0n) return `${r} max limit to request ratio per ${type} is ${shown(enforced)}, but no request is specified or request is 0`;
  if (!lim || lim.milli === 0n) return `${r} max limit to request ratio per ${type} is ${shown(enforced)}, but no limit is specified or limit is 0`;
  const observed = Number(lim.milli) / Number(req.milli);
  if (observed * 1000 > Number(ratio.milli)) {
    return `${r} max limit to request ratio per ${type} is ${shown(enforced)}, but provided ratio is ${observed.toFixed(6)}`;
  }
  return undefined;
}

/** The checks of one item against one set of requests and limits. */
function checkItem(item: LimitRangeItem, type: string, requests: Amounts, limits: Amounts, errs: string[]): void {
  const each = (list: ResourceList | null | undefined, f: (r: string, v: string | number) => string | undefined) => {
    for (const [r, v] of Object.entries(list ?? {})) {
      const e = f(r, v);
      if (e) errs.push(e);
    }
  };
  each(item.min, (r, v) => minConstraint(type, r, v, requests, limits));
  each(item.max, (r, v) => maxConstraint(type, r, v, requests, limits));
  each(item.maxLimitRequestRatio, (r, v) => ratioConstraint(type, r, v, requests, limits));
}

/** mergeContainerResources: the defaults a container leaves out, and the annotation's words for them. */
function mergeContainer(c: Container, limits: ResourceList, requests: ResourceList, prefix: string, notes: string[]): void {
  c.resources ??= {};
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [k, v] of Object.entries(limits)) {
    c.resources.limits ??= {};
    if (c.resources.limits[k] === undefined) {
      c.resources.limits[k] = v;
      setLimits.push(k);
    }
  }
  for (const [k, v] of Object.entries(requests)) {
    c.resources.requests ??= {};
    if (c.resources.requests[k] === undefined) {
      c.resources.requests[k] = v;
      setRequests.push(k);
    }
  }
  if (setRequests.length > 0) notes.push(`${setRequests.sort().join(', ')} request for ${prefix} ${c.name}`);
  if (setLimits.length > 0) notes.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${c.name}`);
}

/** PodMutateLimitFunc: one LimitRange's container defaults. */
function mutatePod(pod: Pod, lr: LimitRange): void {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    Object.assign(requests, item.defaultRequest ?? {});
    Object.assign(limits, item.default ?? {});
  }
  const notes: string[] = [];
  for (const c of pod.spec?.containers ?? []) mergeContainer(c, limits, requests, 'container', notes);
  for (const c of pod.spec?.initContainers ?? []) mergeContainer(c, limits, requests, 'init container', notes);
  if (notes.length > 0) pod.metadata.annotations = { ...pod.metadata.annotations, [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
}

/** PodValidateLimitFunc. */
function validatePod(pod: Pod, lr: LimitRange): string[] {
  const errs: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type === 'Container') {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
        checkItem(item, 'Container', amountsOf(c.resources?.requests), amountsOf(c.resources?.limits), errs);
      }
    }
    if (item.type === 'Pod') checkItem(item, 'Pod', podResources(pod, 'requests', false), podResources(pod, 'limits', false), errs);
  }
  return errs;
}

/** PersistentVolumeClaimValidateLimitFunc: min and max of what the claim requests. */
function validateClaim(pvc: PersistentVolumeClaim, lr: LimitRange): string[] {
  const errs: string[] = [];
  const requests = amountsOf(pvc.spec?.resources?.requests);
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [r, v] of Object.entries(item.min ?? {})) {
      const e = minConstraint('PersistentVolumeClaim', r, v, requests, {});
      if (e) errs.push(e);
    }
    for (const [r, v] of Object.entries(item.max ?? {})) {
      const e = maxRequestConstraint('PersistentVolumeClaim', r, v, requests);
      if (e) errs.push(e);
    }
  }
  return errs;
}

/** utilerrors.NewAggregate(errs).Error(): one message as is, several (duplicates dropped) in brackets. */
function aggregate(errs: string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

async function limitRanges(obj: KObject, ctx: AdmitContext): Promise<LimitRange[]> {
  const all = (await ctx.list({ group: '', resource: 'limitranges' }, obj.metadata.namespace ?? '')) as unknown as LimitRange[];
  return all.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** LimitRanger for a pod: defaults, then each LimitRange's checks; the first LimitRange a pod breaks refuses it (403). */
export async function admitPodLimits(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (old) return;
  const pod = obj as Pod;
  const ranges = await limitRanges(obj, ctx);
  if (ranges.length === 0) return;
  // kube decodes (request defaults to limit) before admission: LimitRanger's defaults only fill what is still unset.
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) defaultContainerRequests(c);
  for (const lr of ranges) mutatePod(pod, lr);
  for (const lr of ranges) {
    const errs = validatePod(pod, lr);
    if (errs.length > 0)
      throw StatusError.forbiddenObject({ group: '', resource: 'pods' }, obj.metadata.name || obj.metadata.generateName || '', aggregate(errs));
  }
}

/** LimitRanger for a claim, on create and update (not once it is being deleted). */
export async function admitClaimLimits(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (old?.metadata.deletionTimestamp) return;
  for (const lr of await limitRanges(obj, ctx)) {
    const errs = validateClaim(obj as PersistentVolumeClaim, lr);
    if (errs.length > 0) {
      throw StatusError.forbiddenObject(
        { group: '', resource: 'persistentvolumeclaims' },
        obj.metadata.name || obj.metadata.generateName || '',
        aggregate(errs),
      );
    }
  }
}
