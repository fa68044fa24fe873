/**
 * IngressClass (networking.k8s.io/v1): cluster-scoped. Which controller
 * serves the Ingresses that name the class, after kube's
 * pkg/registry/networking/ingressclass (validation, controller immutable)
 * and the DefaultIngressClass admission plugin, whose Ingress half is
 * admitDefaultIngressClass. Every cluster starts with the class `kumo`,
 * marked default; its controller is a later slice of issue 17
 * (docs/ingress.md), so until then no Ingress of it is routed.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { Ingress } from '../api/networking/v1/ingress.js';
import { IngressClassSchema, type IngressClass, type IngressClassParametersReference } from '../api/networking/v1/ingressclass.js';
import type { KObject } from '../api/object.js';
import { dns1123Label, dns1123Subdomain, domainPrefixedPath, pathSegmentName } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from '../printers/describe/common.js';
import { LEVEL_0, LEVEL_1, tabbed } from '../printers/describe/writer.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';
import type { AdmitContext, Strategy } from './strategy.js';

/** networkingv1.AnnotationIsDefaultIngressClass. */
export const IS_DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The deprecated annotation that named an Ingress's class before spec.ingressClassName. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** The built-in class's controller: the ingress controller issue 17 builds next. */
export const KUMO_INGRESS_CONTROLLER = 'kumo.dev/ingress';

const MAX_CONTROLLER_LENGTH = 250;
const SCOPES = ['Cluster', 'Namespace'] as const;

/** The class every cluster starts with, the default one (created at start if missing; a user may change or delete it). */
const KUMO_CLASS: IngressClass = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'kumo', annotations: { [IS_DEFAULT_CLASS_ANNOTATION]: 'true' } },
  spec: { controller: KUMO_INGRESS_CONTROLLER },
};

/** validateIngressClassParametersReference. */
function validateParameters(p: IngressClassParametersReference | null | undefined): FieldError[] {
  if (!p) return [];
  const at = 'spec.parameters';
  const errs: FieldError[] = [];
  if (p.apiGroup !== undefined && p.apiGroup !== null)
    for (const msg of dns1123Subdomain(p.apiGroup)) errs.push(fieldErrors.invalid(`${at}.apiGroup`, p.apiGroup, msg));
  for (const f of ['kind', 'name'] as const) {
    const v = p[f] ?? '';
    if (v === '') errs.push(fieldErrors.required(`${at}.${f}`));
    else for (const msg of pathSegmentName(v)) errs.push(fieldErrors.invalid(`${at}.${f}`, v, msg));
  }
  const scope = p.scope;
  if (scope === undefined || scope === null) {
    errs.push(fieldErrors.required(`${at}.scope`));
    return errs;
  }
  if (!(SCOPES as readonly string[]).includes(scope)) errs.push(fieldErrors.notSupported(`${at}.scope`, scope, SCOPES));
  else if (scope === 'Namespace') {
    if (p.namespace === undefined || p.namespace === null) errs.push(fieldErrors.required(`${at}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const msg of dns1123Label(p.namespace)) errs.push(fieldErrors.invalid(`${at}.namespace`, p.namespace, msg));
  } else if (p.namespace !== undefined && p.namespace !== null) {
    errs.push(fieldErrors.forbidden(`${at}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

const ingressClassStrategy: Strategy = {
  // SetDefaults_IngressClass: parameters without a scope are cluster-scoped.
  defaults(obj) {
    const params = (obj as IngressClass).spec?.parameters;
    if (params) params.scope ??= 'Cluster';
  },
  validate(obj) {
    const spec = (obj as IngressClass).spec ?? {};
    const errs: FieldError[] = [];
    const controller = spec.controller ?? '';
    if (controller === '') errs.push(fieldErrors.required('spec.controller'));
    else {
      if (controller.length > MAX_CONTROLLER_LENGTH) errs.push(fieldErrors.tooLong('spec.controller', MAX_CONTROLLER_LENGTH));
      errs.push(...domainPrefixedPath('spec.controller', controller));
    }
    errs.push(...validateParameters(spec.parameters));
    return errs;
  },
  validateUpdate(obj, old) {
    const controller = (obj as IngressClass).spec?.controller;
    return deepEqual(controller, (old as IngressClass).spec?.controller) ? [] : [fieldErrors.invalid('spec.controller', controller, 'field is immutable')];
  },
};

/**
 * The DefaultIngressClass admission plugin, on an Ingress's create: one that
 * names no class (neither spec.ingressClassName nor the deprecated
 * annotation) gets the default class's name. Several defaults: the newest
 * wins (ties by name), as kube-apiserver has chosen since 1.28 instead of
 * refusing; none: the Ingress keeps no class.
 */
export async function admitDefaultIngressClass(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (old) return;
  const ing = obj as Ingress;
  if (ing.spec?.ingressClassName !== undefined && ing.spec.ingressClassName !== null) return;
  if (ing.metadata.annotations?.[INGRESS_CLASS_ANNOTATION] !== undefined) return;
  const classes = (await ctx.list({ group: 'networking.k8s.io', resource: 'ingressclasses' })) as unknown as IngressClass[];
  const defaults = classes
    .filter((c) => c.metadata.annotations?.[IS_DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => {
      const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
      const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
      return ta === tb ? (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '') : tb - ta;
    });
  const chosen = defaults[0]?.metadata.name;
  if (chosen === undefined) return;
  ing.spec = { ...ing.spec, ingressClassName: chosen };
}

/** kubectl get ingressclass (printIngressClass): parameters as Kind[.group]/name. */
const ingressClassPrinter: Printer = {
  columns: [NAME, col('Controller'), col('Parameters'), AGE],
  row(obj, now) {
    const ic = obj as IngressClass;
    const p = ic.spec?.parameters;
    const parameters = p ? `${p.kind ?? ''}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name ?? ''}` : '<none>';
    return [ic.metadata.name ?? '', ic.spec?.controller ?? '', parameters, age(ic.metadata.creationTimestamp, now)];
  },
};

export const ingressClassKind = defineKind({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  resource: 'ingressclasses',
  namespaced: false,
  schema: IngressClassSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: ingressClassStrategy,
  printer: ingressClassPrinter,
  // kubectl's IngressClassDescriber.
  describer: async (obj, ctx) => {
    const ic = obj as IngressClass;
    const events = await ctx.events();
    return tabbed((w) => {
      w.write(LEVEL_0, `Name:\t${ic.metadata.name ?? ''}\n`);
      printLabelsMultiline(w, 'Labels', ic.metadata.labels);
      printAnnotationsMultiline(w, 'Annotations', ic.metadata.annotations);
      w.write(LEVEL_0, `Controller:\t${ic.spec?.controller ?? ''}\n`);
      const p = ic.spec?.parameters;
      if (p) {
        w.write(LEVEL_0, 'Parameters:\n');
        if (p.apiGroup !== undefined && p.apiGroup !== null) w.write(LEVEL_1, `APIGroup:\t${p.apiGroup}\n`);
        w.write(LEVEL_1, `Kind:\t${p.kind ?? ''}\n`);
        w.write(LEVEL_1, `Name:\t${p.name ?? ''}\n`);
      }
      if (events) describeEvents(events, w, ctx.now);
    });
  },
  bootstrap: [KUMO_CLASS as KObject],
});
