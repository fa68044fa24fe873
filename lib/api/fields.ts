/**
 * Field selectors (`?fieldSelector=`): `=`, `==` and `!=` over the fields each
 * kind exposes, like Kubernetes' per-kind GetAttrs functions. Asking for a
 * field a kind does not support is an error, as in Kubernetes.
 */
import type { KObject } from './object.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export class FieldSelectorError extends Error {
  override name = 'FieldSelectorError';
}

export function parseFieldSelector(input: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const raw of input.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const m = term.match(/^([^=!]+)(==|=|!=)(.*)$/);
    if (!m) throw new FieldSelectorError(`invalid selector: '${input}'; can't understand '${term}'`);
    out.push({ field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() });
  }
  return out;
}

type Getter = (obj: KObject) => string | undefined;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function path(...keys: string[]): Getter {
  return (obj) => {
    let cur: unknown = obj;
    for (const k of keys) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
    return str(cur);
  };
}

const common: Record<string, Getter> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

/** Fields each resource (by store key) can be selected by, beyond metadata.name and metadata.namespace. */
const byResource: Record<string, Record<string, Getter>> = {
  pods: {
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': (o) => String(Boolean((o.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork)),
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  events: {
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
  nodes: { 'spec.unschedulable': (o) => String(Boolean((o.spec as { unschedulable?: boolean } | undefined)?.unschedulable)) },
  namespaces: { 'status.phase': path('status', 'phase') },
  secrets: { type: path('type') },
  replicasets: { 'status.replicas': path('status', 'replicas') },
  jobs: { 'status.successful': path('status', 'succeeded') },
  services: { 'spec.clusterIP': path('spec', 'clusterIP'), 'spec.type': path('spec', 'type') },
};

/**
 * Resolves each requirement's getter now, so a bad field fails before any read.
 * `resource` is the store key (storeResource): a custom resource that shares a
 * built-in's plural gets only the common fields, not the built-in's, and the
 * `selectable` field labels its CRD declares (`spec.color`, read at that path).
 */
export function compileFieldSelector(resource: string, reqs: FieldRequirement[], selectable: readonly string[] = []): (obj: KObject) => boolean {
  const getters = reqs.map((r) => {
    const get = common[r.field] ?? byResource[resource]?.[r.field] ?? (selectable.includes(r.field) ? path(...r.field.split('.')) : undefined);
    if (!get) throw new FieldSelectorError(`field label not supported: ${r.field}`);
    return { get, r };
  });
  return (obj) => getters.every(({ get, r }) => (get(obj) === r.value) === (r.op === '='));
}

/** If the selector pins `spec.nodeName` to one value, that value (pods can then be read through the node index). `resource` is the store key. */
export function pinnedNodeName(resource: string, reqs: FieldRequirement[]): string | undefined {
  if (resource !== 'pods') return undefined;
  const r = reqs.find((x) => x.field === 'spec.nodeName' && x.op === '=');
  return r && r.value !== '' ? r.value : undefined;
}
