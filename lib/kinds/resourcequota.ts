/**
 * ResourceQuota (v1): namespaced, with a status subresource. After kube's
 * pkg/registry/core/resourcequota (status cleared on create, kept by spec
 * updates) and pkg/apis/core/validation ValidateResourceQuota. What a quota
 * limits is enforced by the ResourceQuota admission plugin
 * (lib/apiserver/quota-admission.ts); its status by the quota controller
 * (lib/controllers/resourcequota.ts).
 */
import { ResourceQuotaSchema, type ResourceQuota, type ScopedResourceSelectorRequirement } from '../api/core/v1/resourcequota.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import type { ResourceList } from '../api/quota/amounts.js';
import { COMPUTE_RESOURCE_NAMES } from '../api/quota/evaluators.js';
import { qualifiedName } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeResourceQuota, shownQuantity } from '../printers/describe/quota.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { validateQuantity } from './validation/resource-list.js';

/** helper.standardQuotaResources. */
const STANDARD_QUOTA_RESOURCES = new Set([
  ...COMPUTE_RESOURCE_NAMES,
  'pods',
  'requests.storage',
  'persistentvolumeclaims',
  'services',
  'services.loadbalancers',
  'services.nodeports',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
]);

function isStandardQuotaResourceName(name: string): boolean {
  return STANDARD_QUOTA_RESOURCES.has(name) || name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

const SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];
const POD_COMPUTE = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);
const CONFLICTING = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];
const EXISTS_ONLY = ['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'];

/** helper.IsResourceQuotaScopeValidForResource. */
function scopeValidFor(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return resource === 'pods' || POD_COMPUTE.has(resource);
    case 'BestEffort':
      return resource === 'pods';
    case 'VolumeAttributesClass':
      return ['persistentvolumeclaims', 'requests.storage'].includes(resource);
    default:
      return true;
  }
}

/** The resource names and values of a ResourceList (spec.hard, status.hard, status.used). */
function validateList(list: ResourceList | null | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {})) {
    const field = `${path}[${k}]`;
    for (const msg of qualifiedName(k)) errs.push(fieldErrors.invalid(field, k, msg));
    if (!k.includes('/') && !isStandardQuotaResourceName(k)) errs.push(fieldErrors.invalid(field, k, 'must be a standard resource for quota'));
    validateQuantity(field, k, v, errs);
  }
  return errs;
}

/** Go's %#v of the scopes, as field.Invalid prints a slice. */
function goScopes(scopes: readonly string[]): string {
  return `[]core.ResourceQuotaScope{${scopes.map((s) => JSON.stringify(s)).join(', ')}}`;
}

function validateScopes(q: ResourceQuota): FieldError[] {
  const scopes = q.spec?.scopes ?? [];
  if (scopes.length === 0) return [];
  const hard = Object.keys(q.spec?.hard ?? {}).sort();
  const invalid = (why: string): FieldError => ({ type: 'FieldValueInvalid', field: 'spec.scopes', message: `Invalid value: ${goScopes(scopes)}: ${why}` });
  const errs: FieldError[] = [];
  for (const scope of scopes) {
    if (!SCOPES.includes(scope)) errs.push(invalid('unsupported scope'));
    for (const k of hard) if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k)) errs.push(invalid('unsupported scope applied to resource'));
  }
  for (const pair of CONFLICTING) if (pair.every((s) => scopes.includes(s))) errs.push(invalid('conflicting scopes'));
  return errs;
}

function validateScopeSelector(q: ResourceQuota): FieldError[] {
  const reqs: ScopedResourceSelectorRequirement[] = q.spec?.scopeSelector?.matchExpressions ?? [];
  const hard = Object.keys(q.spec?.hard ?? {}).sort();
  const path = 'spec.scopeSelector.matchExpressions';
  const errs: FieldError[] = [];
  for (const req of reqs) {
    const scope = req.scopeName ?? '';
    if (!SCOPES.includes(scope)) errs.push(fieldErrors.invalid(`${path}.scopeName`, scope, 'unsupported scope'));
    for (const k of hard) {
      if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k)) errs.push(fieldErrors.invalidOmitted(path, 'unsupported scope applied to resource'));
    }
    if (EXISTS_ONLY.includes(scope) && req.operator !== 'Exists') {
      errs.push(
        fieldErrors.invalid(
          `${path}.operator`,
          req.operator ?? '',
          "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    }
    const values = req.values ?? [];
    if (req.operator === 'In' || req.operator === 'NotIn') {
      if (values.length === 0)
        errs.push(fieldErrors.required(`${path}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
      if (values.length > 0)
        errs.push(fieldErrors.invalidOmitted(`${path}.values`, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else errs.push(fieldErrors.invalid(`${path}.operator`, req.operator ?? '', 'not a valid selector operator'));
  }
  const named = reqs.map((r) => r.scopeName ?? '');
  for (const pair of CONFLICTING) if (pair.every((s) => named.includes(s))) errs.push(fieldErrors.invalidOmitted(path, 'conflicting scopes'));
  return errs;
}

function validateStatus(q: ResourceQuota): FieldError[] {
  return [...validateList(q.status?.hard, 'status.hard'), ...validateList(q.status?.used, 'status.used')];
}

const resourceQuotaStrategy: Strategy = {
  noGeneration: true,
  // The quota controller fills status; a client's is dropped (kube's PrepareForCreate).
  prepareForCreate(obj) {
    delete (obj as ResourceQuota).status;
  },
  validate(obj) {
    const q = obj as ResourceQuota;
    return [...validateList(q.spec?.hard, 'spec.hard'), ...validateScopes(q), ...validateScopeSelector(q), ...validateStatus(q)];
  },
  validateUpdate(obj, old) {
    const scopes = (obj as ResourceQuota).spec?.scopes ?? [];
    if (deepEqual(scopes, (old as ResourceQuota).spec?.scopes ?? [])) return [];
    return [{ type: 'FieldValueInvalid', field: 'spec.scopes', message: `Invalid value: ${goScopes(scopes)}: field is immutable` }];
  },
  validateStatusUpdate: (obj) => validateStatus(obj as ResourceQuota),
};

/** kubectl's printResourceQuota: `name: used/hard` for each hard name, limits.* in LIMIT, the rest in REQUEST. */
const resourceQuotaPrinter: Printer = {
  columns: [NAME, AGE, col('Request'), col('Limit')],
  row(obj, now) {
    const q = obj as ResourceQuota;
    const request: string[] = [];
    const limit: string[] = [];
    for (const r of Object.keys(q.status?.hard ?? {}).sort()) {
      const cell = `${r}: ${shownQuantity(q.status?.used?.[r])}/${shownQuantity(q.status?.hard?.[r])}`;
      (r.split('.').length > 1 && r.startsWith('limits.') ? limit : request).push(cell);
    }
    return [q.metadata.name ?? '', age(q.metadata.creationTimestamp, now), request.join(', '), limit.join(', ')];
  },
};

export const resourceQuotaKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  resource: 'resourcequotas',
  namespaced: true,
  schema: ResourceQuotaSchema,
  shortNames: ['quota'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: resourceQuotaStrategy,
  printer: resourceQuotaPrinter,
  describer: async (obj: KObject) => describeResourceQuota(obj as ResourceQuota),
});
