/**
 * LimitRange (v1): namespaced. After kube's pkg/registry/core/limitrange,
 * SetDefaults_LimitRangeItem and pkg/apis/core/validation
 * ValidateLimitRange. The LimitRanger admission plugin that applies them to
 * pods and claims is lib/kinds/limitranger.ts.
 */
import { LimitRangeSchema, type LimitRange, type LimitRangeItem } from '../api/core/v1/limitrange.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { formatAmount, type Amount, type ResourceList } from '../api/quota/amounts.js';
import { COMPUTE_RESOURCE_NAMES } from '../api/quota/evaluators.js';
import { qualifiedName } from '../api/validation.js';
import { col, NAME, type Printer } from '../printers/columns.js';
import { describeLimitRange } from '../printers/describe/quota.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { validateQuantity } from './validation/resource-list.js';

const STANDARD_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];
const CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];
/** helper.standardResources. */
const STANDARD_RESOURCES = new Set([
  ...COMPUTE_RESOURCE_NAMES,
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);

/** SetDefaults_LimitRangeItem: a Container item's default limit is its max, its default request its default limit, else its min. */
function defaultItem(item: LimitRangeItem): void {
  if (item.type !== 'Container') return;
  item.default ??= {};
  item.defaultRequest ??= {};
  for (const [k, v] of Object.entries(item.max ?? {})) item.default[k] ??= v;
  for (const [k, v] of Object.entries(item.default)) item.defaultRequest[k] ??= v;
  for (const [k, v] of Object.entries(item.min ?? {})) item.defaultRequest[k] ??= v;
}

/** validateLimitRangeResourceName: container resources for Pod and Container items, any standard or qualified name otherwise. */
function validateResourceName(type: string, name: string, field: string): FieldError[] {
  const errs = qualifiedName(name).map((m) => fieldErrors.invalid(field, name, m));
  if (name.includes('/')) return errs;
  if (type === 'Pod' || type === 'Container') {
    if (!CONTAINER_RESOURCES.includes(name) && !name.startsWith('hugepages-'))
      errs.push(fieldErrors.invalid(field, name, 'must be a standard resource for containers'));
  } else if (!STANDARD_RESOURCES.has(name) && !name.startsWith('hugepages-')) {
    errs.push(fieldErrors.invalid(field, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

/** helper.IsOvercommitAllowed: native resources but hugepages. */
function overcommitAllowed(name: string): boolean {
  return !name.startsWith('hugepages-') && (!name.includes('/') || name.startsWith('kubernetes.io/'));
}

function validateItem(item: LimitRangeItem, path: string, errs: FieldError[]): void {
  const type = item.type ?? '';
  for (const m of qualifiedName(type)) errs.push(fieldErrors.invalid(`${path}.type`, type, m));
  if (!type.includes('/') && !STANDARD_TYPES.includes(type))
    errs.push(fieldErrors.invalid(`${path}.type`, type, 'must be a standard limit type or fully qualified'));
  const read = (list: ResourceList | null | undefined, name: string): Record<string, Amount> => {
    const out: Record<string, Amount> = {};
    for (const [k, v] of Object.entries(list ?? {})) {
      const field = `${path}.${name}[${k}]`;
      errs.push(...validateResourceName(type, k, field));
      const a = validateQuantity(field, k, v, errs);
      if (a) out[k] = a;
    }
    return out;
  };
  const max = read(item.max, 'max');
  const min = read(item.min, 'min');
  let dflt: Record<string, Amount> = {};
  let dfltReq: Record<string, Amount> = {};
  if (type === 'Pod') {
    if (Object.keys(item.default ?? {}).length > 0) errs.push(fieldErrors.forbidden(`${path}.default`, "may not be specified when `type` is 'Pod'"));
    if (Object.keys(item.defaultRequest ?? {}).length > 0) {
      errs.push(fieldErrors.forbidden(`${path}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
  } else {
    dflt = read(item.default, 'default');
    dfltReq = read(item.defaultRequest, 'defaultRequest');
  }
  if (type === 'PersistentVolumeClaim' && !item.min?.storage && !item.max?.storage) {
    errs.push(fieldErrors.required(`${path}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
  }
  const ratio = read(item.maxLimitRequestRatio, 'maxLimitRequestRatio');
  const keys = new Set([...Object.keys(max), ...Object.keys(min), ...Object.keys(dflt), ...Object.keys(dfltReq), ...Object.keys(ratio)]);
  const s = formatAmount;
  for (const k of [...keys].sort()) {
    const [mn, mx, d, dr, r] = [min[k], max[k], dflt[k], dfltReq[k], ratio[k]];
    const at = (name: string) => `${path}.${name}[${k}]`;
    if (mn && mx && mn.milli > mx.milli) errs.push(fieldErrors.invalid(at('min'), s(mn), `min value ${s(mn)} is greater than max value ${s(mx)}`));
    if (dr && mn && mn.milli > dr.milli)
      errs.push(fieldErrors.invalid(at('defaultRequest'), s(dr), `min value ${s(mn)} is greater than default request value ${s(dr)}`));
    if (dr && mx && dr.milli > mx.milli)
      errs.push(fieldErrors.invalid(at('defaultRequest'), s(dr), `default request value ${s(dr)} is greater than max value ${s(mx)}`));
    if (dr && d && dr.milli > d.milli)
      errs.push(fieldErrors.invalid(at('defaultRequest'), s(dr), `default request value ${s(dr)} is greater than default limit value ${s(d)}`));
    if (d && mn && mn.milli > d.milli) errs.push(fieldErrors.invalid(at('default'), s(mn), `min value ${s(mn)} is greater than default value ${s(d)}`));
    if (d && mx && d.milli > mx.milli) errs.push(fieldErrors.invalid(at('default'), s(mx), `default value ${s(d)} is greater than max value ${s(mx)}`));
    if (r && r.milli < 1000n) errs.push(fieldErrors.invalid(at('maxLimitRequestRatio'), s(r), `ratio ${s(r)} is less than 1`));
    if (r && mn && mx && mn.milli > 0n) {
      const limit = Number(mx.milli) / Number(mn.milli);
      if (Number(r.milli) / 1000 > limit) {
        errs.push(fieldErrors.invalid(at('maxLimitRequestRatio'), s(r), `ratio ${s(r)} is greater than max/min = ${limit.toFixed(6)}`));
      }
    }
    if (!overcommitAllowed(k) && d && dr && d.milli !== dr.milli) {
      errs.push(fieldErrors.invalid(at('defaultRequest'), s(dr), `default value ${s(d)} must equal to defaultRequest value ${s(dr)} in ${k}`));
    }
  }
}

const limitRangeStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    for (const item of (obj as LimitRange).spec?.limits ?? []) defaultItem(item);
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    for (const [i, item] of ((obj as LimitRange).spec?.limits ?? []).entries()) {
      const path = `spec.limits[${i}]`;
      validateItem(item, path, errs);
      if (seen.has(item.type ?? '')) errs.push(fieldErrors.duplicate(`${path}.type`, item.type ?? ''));
      seen.add(item.type ?? '');
    }
    return errs;
  },
};

/** kubectl's printLimitRange: the name and the creation time as stored. */
const limitRangePrinter: Printer = {
  columns: [NAME, col('Created At', 'date')],
  row: (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''],
};

export const limitRangeKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  resource: 'limitranges',
  namespaced: true,
  schema: LimitRangeSchema,
  shortNames: ['limits'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: limitRangeStrategy,
  printer: limitRangePrinter,
  describer: async (obj: KObject) => describeLimitRange(obj as LimitRange),
});
