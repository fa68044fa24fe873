/**
 * ReplicationController (v1): namespaced. The ReplicaSet's predecessor, run
 * by the same controller (lib/controllers/replicaset.ts) with a label map for
 * a selector. After kube's pkg/registry/core/replicationcontroller:
 * SetDefaults_ReplicationController (the selector and the object's labels
 * default to the template's), ValidateReplicationController (a selector is
 * required and must match the template; restartPolicy Always; unlike a
 * ReplicaSet's, the selector may change), the scale subresource.
 */
import type { Pod } from '../api/core/v1/pod.js';
import { ReplicationControllerSchema, type ReplicationController } from '../api/core/v1/replicationcontroller.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { replicationControllerPrinter } from '../printers/columns.js';
import { describeReplicationController } from '../printers/describe/workloads.js';
import { defineKind } from './kind.js';
import { podKind } from './pod.js';
import type { Strategy } from './strategy.js';
import { defaultTemplate, nonNegative, validateTemplate } from './strategies/apps.js';

/** Whether every label of `selector` is on `labels` (labels.Set(selector).AsSelector().Matches). */
function selects(selector: Record<string, string>, labels: Record<string, string> | null | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const replicationControllerStrategy: Strategy = {
  defaults(obj) {
    const rc = obj as ReplicationController;
    const spec = (rc.spec ??= {});
    const labels = spec.template?.metadata?.labels;
    if (labels) {
      if (Object.keys(spec.selector ?? {}).length === 0) spec.selector = { ...labels };
      if (Object.keys(rc.metadata.labels ?? {}).length === 0) rc.metadata.labels = { ...labels };
    }
    spec.replicas ??= 1;
    defaultTemplate(spec.template);
  },
  prepareForCreate(obj) {
    (obj as ReplicationController).status = { replicas: 0 };
  },
  validate(obj) {
    const spec = (obj as ReplicationController).spec ?? {};
    const errs: FieldError[] = [];
    nonNegative(spec.minReadySeconds, 'spec.minReadySeconds', errs);
    const selector = spec.selector ?? {};
    if (Object.keys(selector).length === 0) errs.push(fieldErrors.required('spec.selector'));
    nonNegative(spec.replicas, 'spec.replicas', errs);
    if (spec.template && Object.keys(selector).length > 0 && !selects(selector, spec.template.metadata?.labels)) {
      errs.push(fieldErrors.invalid('spec.template.metadata.labels', spec.template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
    }
    validateTemplate(spec.template, 'spec.template', errs, ['Always'], 'ReplicationController');
    return errs;
  },
};

export const replicationControllerKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  resource: 'replicationcontrollers',
  namespaced: true,
  schema: ReplicationControllerSchema,
  shortNames: ['rc'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: replicationControllerStrategy,
  printer: replicationControllerPrinter,
  describer: async (obj, ctx) => {
    const rc = obj as ReplicationController;
    const selector = Object.entries(rc.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let pods: Pod[] | Error;
    try {
      pods = await ctx.list<Pod & KObject>(podKind, obj.metadata.namespace, { labelSelector: selector });
    } catch (err) {
      pods = err instanceof Error ? err : new Error(String(err));
    }
    return describeReplicationController(rc, pods, await ctx.events(), ctx.now);
  },
});
