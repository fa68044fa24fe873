/**
 * Ingress (networking.k8s.io/v1): namespaced, with a status subresource.
 * HTTP routes to Services, after kube's pkg/registry/networking/ingress
 * (status cleared on create and kept by spec writes, the deprecated class
 * annotation warned of) and pkg/apis/networking/validation, messages word for
 * word. DefaultIngressClass admission fills in the class
 * (admitDefaultIngressClass). Stored and served only: the controller that
 * routes traffic and fills status.loadBalancer is a later slice of issue 17
 * (docs/ingress.md).
 */
import { isIP } from 'node:net';
import type { Service } from '../api/core/v1/service.js';
import type { EndpointSlice } from '../api/discovery/v1/endpointslice.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import {
  IngressSchema,
  type HTTPIngressPath,
  type Ingress,
  type IngressBackend,
  type IngressLoadBalancerStatus,
  type IngressRule,
} from '../api/networking/v1/ingress.js';
import type { KObject } from '../api/object.js';
import { dns1035Label, dns1123Subdomain, ianaServiceName, pathSegmentName, wildcardDns1123Subdomain } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from '../printers/describe/common.js';
import { formatEndpointSlices } from '../printers/describe/core.js';
import { LEVEL_0, LEVEL_1, LEVEL_2, tabbed } from '../printers/describe/writer.js';
import { tolerate } from './describe.js';
import { endpointSliceKind } from './endpointslice.js';
import { admitDefaultIngressClass, INGRESS_CLASS_ANNOTATION } from './ingressclass.js';
import type { DescribeContext } from './kind.js';
import { defineKind } from './kind.js';
import { serviceKind } from './service.js';
import type { Strategy } from './strategy.js';

/** supportedPathTypes, sorted as sets.String.List() prints them. */
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'] as const;
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
/** kubectl's loadBalancerWidth: ADDRESS is cut to it in tables. */
const LOAD_BALANCER_WIDTH = 16;

const isSet = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** A DNS name, a wildcard one, never an IP address (validateIngressRules' host checks). */
function validateHost(host: string, field: string, errs: FieldError[]): void {
  if (isIP(host) !== 0) errs.push(fieldErrors.invalid(field, host, 'must be a DNS name, not an IP address'));
  const msgs = host.includes('*') ? wildcardDns1123Subdomain(host) : dns1123Subdomain(host);
  for (const msg of msgs) errs.push(fieldErrors.invalid(field, host, msg));
}

/** validateIngressBackend: a Service (name and one port) or a resource, exactly one. */
function validateBackend(b: IngressBackend, at: string): FieldError[] {
  const errs: FieldError[] = [];
  const svc = b.service;
  const res = b.resource;
  if (isSet(res) && isSet(svc)) return [fieldErrors.invalid(at, '', 'cannot set both resource and service backends')];
  if (isSet(res)) {
    if (isSet(res.apiGroup)) for (const msg of dns1123Subdomain(res.apiGroup)) errs.push(fieldErrors.invalid(`${at}.resource.apiGroup`, res.apiGroup, msg));
    for (const f of ['kind', 'name'] as const) {
      const v = res[f] ?? '';
      if (v === '') errs.push(fieldErrors.required(`${at}.resource.${f}`));
      else for (const msg of pathSegmentName(v)) errs.push(fieldErrors.invalid(`${at}.resource.${f}`, v, msg));
    }
    return errs;
  }
  if (!isSet(svc)) return [fieldErrors.invalid(at, '', 'resource or service backend is required')];
  const name = svc.name ?? '';
  if (name === '') errs.push(fieldErrors.required(`${at}.service.name`));
  // ValidateServiceName: a Service's name is a DNS-1035 label.
  else for (const msg of dns1035Label(name)) errs.push(fieldErrors.invalid(`${at}.service.name`, name, msg));
  const portName = svc.port?.name ?? '';
  const portNumber = svc.port?.number ?? 0;
  if (portName !== '' && portNumber !== 0) errs.push(fieldErrors.invalid(at, '', 'cannot set both port name & port number'));
  else if (portName !== '') for (const msg of ianaServiceName(portName)) errs.push(fieldErrors.invalid(`${at}.service.port.name`, portName, msg));
  else if (portNumber !== 0) {
    if (portNumber < 1 || portNumber > 65535) errs.push(fieldErrors.invalid(`${at}.service.port.number`, portNumber, 'must be between 1 and 65535, inclusive'));
  } else errs.push(fieldErrors.required(at, 'port name or number is required'));
  return errs;
}

/** validateHTTPIngressPath: pathType required; Exact and Prefix paths absolute and clean. */
function validatePath(p: HTTPIngressPath, at: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = p.pathType;
  if (!isSet(type)) return [fieldErrors.required(`${at}.pathType`, 'pathType must be specified')];
  const path = p.path ?? '';
  if (type === 'Exact' || type === 'Prefix') {
    if (!path.startsWith('/')) errs.push(fieldErrors.invalid(`${at}.path`, path, 'must be an absolute path'));
    for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) errs.push(fieldErrors.invalid(`${at}.path`, path, `must not contain '${seq}'`));
    for (const suffix of INVALID_PATH_SUFFIXES) if (path.endsWith(suffix)) errs.push(fieldErrors.invalid(`${at}.path`, path, `cannot end with '${suffix}'`));
  } else if (type === 'ImplementationSpecific') {
    if (path !== '' && !path.startsWith('/')) errs.push(fieldErrors.invalid(`${at}.path`, path, 'must be an absolute path'));
  } else errs.push(fieldErrors.notSupported(`${at}.pathType`, type, PATH_TYPES));
  errs.push(...validateBackend(p.backend ?? {}, `${at}.backend`));
  return errs;
}

function validateRules(rules: readonly IngressRule[]): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const at = `spec.rules[${i}]`;
    if (rule.host) validateHost(rule.host, `${at}.host`, errs);
    if (!isSet(rule.http)) return;
    const paths = rule.http.paths ?? [];
    if (paths.length === 0) errs.push(fieldErrors.required(`${at}.http.paths`));
    paths.forEach((p, j) => errs.push(...validatePath(p, `${at}.http.paths[${j}]`)));
  });
  return errs;
}

/** ValidateIngressSpec. */
function validateSpec(ing: Ingress): FieldError[] {
  const spec = ing.spec ?? {};
  const errs: FieldError[] = [];
  const rules = spec.rules ?? [];
  if (rules.length === 0 && !isSet(spec.defaultBackend)) {
    // field.Invalid prints the Go value of the empty rules with %#v.
    const shown = isSet(spec.rules) ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)';
    errs.push(fieldErrors.invalidOmitted('spec', `${shown}: either \`defaultBackend\` or \`rules\` must be specified`));
  }
  if (isSet(spec.defaultBackend)) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  errs.push(...validateRules(rules));
  (spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((host, j) => {
      const msgs = host.includes('*') ? wildcardDns1123Subdomain(host) : dns1123Subdomain(host);
      for (const msg of msgs) errs.push(fieldErrors.invalid(`spec.tls[${i}].hosts[${j}]`, host, msg));
    });
    // ValidateSecretName: a Secret's name is a DNS subdomain.
    if (tls.secretName) for (const msg of dns1123Subdomain(tls.secretName)) errs.push(fieldErrors.invalid(`spec.tls[${i}].secretName`, tls.secretName, msg));
  });
  if (isSet(spec.ingressClassName)) {
    for (const msg of dns1123Subdomain(spec.ingressClassName)) errs.push(fieldErrors.invalid('spec.ingressClassName', spec.ingressClassName, msg));
  }
  return errs;
}

/** ValidateIngressLoadBalancerStatus: addresses are IPs, hostnames DNS names. */
function validateLoadBalancerStatus(status: IngressLoadBalancerStatus | null | undefined): FieldError[] {
  const errs: FieldError[] = [];
  (status?.ingress ?? []).forEach((lb, i) => {
    const at = `status.loadBalancer.ingress[${i}]`;
    if (lb.ip && isIP(lb.ip) === 0) errs.push(fieldErrors.invalid(`${at}.ip`, lb.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    if (lb.hostname) {
      for (const msg of dns1123Subdomain(lb.hostname)) errs.push(fieldErrors.invalid(`${at}.hostname`, lb.hostname, msg));
      if (isIP(lb.hostname) !== 0) errs.push(fieldErrors.invalid(`${at}.hostname`, lb.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** The deprecated annotation without spec.ingressClassName (kube's WarningsOnCreate and WarningsOnUpdate). */
function annotationWarnings(ing: Ingress): string[] {
  const annotated = ing.metadata.annotations?.[INGRESS_CLASS_ANNOTATION] !== undefined;
  return annotated && !isSet(ing.spec?.ingressClassName)
    ? [`annotation "${INGRESS_CLASS_ANNOTATION}" is deprecated, please use 'spec.ingressClassName' instead`]
    : [];
}

const ingressStrategy: Strategy = {
  admit: admitDefaultIngressClass,
  // Go's zero IngressStatus, as kube's PrepareForCreate leaves it.
  prepareForCreate(obj) {
    (obj as Ingress).status = { loadBalancer: {} };
  },
  validate(obj) {
    return validateSpec(obj as Ingress);
  },
  validateCreate(obj) {
    const ing = obj as Ingress;
    const annotation = ing.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
    const cls = ing.spec?.ingressClassName;
    return annotation !== undefined && isSet(cls) && annotation !== cls
      ? [fieldErrors.invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified')]
      : [];
  },
  validateStatusUpdate(obj) {
    return validateLoadBalancerStatus((obj as Ingress).status?.loadBalancer);
  },
  warnings(obj) {
    return annotationWarnings(obj as Ingress);
  },
};

/** ingressLoadBalancerStatusStringer: the distinct IPs (else hostnames), sorted; cut to 16 characters unless wide. */
function loadBalancerText(status: IngressLoadBalancerStatus | null | undefined, wide: boolean): string {
  const found = new Set<string>();
  for (const lb of status?.ingress ?? []) {
    if (lb.ip) found.add(lb.ip);
    else if (lb.hostname) found.add(lb.hostname);
  }
  const text = [...found].sort().join(',');
  return !wide && text.length > LOAD_BALANCER_WIDTH ? `${text.slice(0, LOAD_BALANCER_WIDTH - 3)}...` : text;
}

/** kubectl's formatHosts: three hosts at most, then "+ N more...", `*` when no rule names one. */
function formatHosts(rules: readonly IngressRule[]): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const text = list.join(',');
  return more ? `${text} + ${rules.length - max} more...` : text;
}

/** kubectl get ingress (printIngress). */
const ingressPrinter: Printer = {
  columns: [NAME, col('Class'), col('Hosts'), col('Address'), col('Ports'), AGE],
  row(obj, now) {
    const ing = obj as Ingress;
    const spec = ing.spec ?? {};
    return [
      ing.metadata.name ?? '',
      spec.ingressClassName ?? '<none>',
      formatHosts(spec.rules ?? []),
      loadBalancerText(ing.status?.loadBalancer, false),
      (spec.tls ?? []).length > 0 ? '80, 443' : '80',
      age(ing.metadata.creationTimestamp, now),
    ];
  },
};

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** describeBackendV1: `service:port (endpoints)` with the Service's ready endpoints, or the resource it names. */
async function describeBackend(ns: string, b: IngressBackend, ctx: DescribeContext): Promise<string> {
  const svc = b.service;
  if (isSet(svc)) {
    const port = svc.port?.number ? String(svc.port.number) : (svc.port?.name ?? '');
    const label = `${svc.name ?? ''}:${port}`;
    let slices: EndpointSlice[];
    let service: Service;
    try {
      slices = await ctx.list<EndpointSlice & KObject>(endpointSliceKind, ns, { labelSelector: `kubernetes.io/service-name=${svc.name ?? ''}` });
      service = await ctx.get<Service & KObject>(serviceKind, ns, svc.name ?? '');
    } catch (err) {
      return `${label} (<error: ${messageOf(err)}>)`;
    }
    let portName = '';
    for (const sp of service.spec?.ports ?? []) {
      if (svc.port?.number && svc.port.number === sp.port) portName = sp.name ?? '';
      else if (svc.port?.name && svc.port.name === sp.name) portName = sp.name;
    }
    return `${label} (${formatEndpointSlices(slices, portName)})`;
  }
  if (isSet(b.resource)) return `APIGroup: ${b.resource.apiGroup ?? '<none>'}, Kind: ${b.resource.kind}, Name: ${b.resource.name}`;
  return '';
}

/** kubectl's IngressDescriber (describeIngressV1): rules with their backends' ready endpoints. */
async function describeIngress(obj: KObject, ctx: DescribeContext): Promise<string> {
  const ing = obj as Ingress;
  const ns = ing.metadata.namespace ?? '';
  const spec = ing.spec ?? {};
  const defaultBackend = isSet(spec.defaultBackend) ? await describeBackend(ns, spec.defaultBackend, ctx) : '<default>';
  // Fetched before writing: the writer is synchronous.
  const rules = await Promise.all(
    (spec.rules ?? [])
      .filter((r) => isSet(r.http))
      .map(async (r) => ({
        host: r.host || '*',
        paths: await Promise.all((r.http?.paths ?? []).map(async (p) => ({ path: p.path ?? '', backend: await describeBackend(ns, p.backend ?? {}, ctx) }))),
      })),
  );
  const events = await tolerate(ctx.events(), undefined);
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${ing.metadata.name ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', ing.metadata.labels);
    w.write(LEVEL_0, `Namespace:\t${ns}\n`);
    w.write(LEVEL_0, `Address:\t${loadBalancerText(ing.status?.loadBalancer, true)}\n`);
    w.write(LEVEL_0, `Ingress Class:\t${spec.ingressClassName ?? '<none>'}\n`);
    w.write(LEVEL_0, `Default backend:\t${defaultBackend}\n`);
    if ((spec.tls ?? []).length > 0) {
      w.write(LEVEL_0, 'TLS:\n');
      for (const t of spec.tls ?? []) {
        const hosts = (t.hosts ?? []).join(',');
        w.write(LEVEL_1, t.secretName ? `${t.secretName} terminates ${hosts}\n` : `SNI routes ${hosts}\n`);
      }
    }
    w.write(LEVEL_0, 'Rules:\n  Host\tPath\tBackends\n');
    w.write(LEVEL_1, '----\t----\t--------\n');
    for (const rule of rules) {
      w.write(LEVEL_1, `${rule.host}\t\n`);
      for (const p of rule.paths) w.write(LEVEL_2, `\t${p.path} \t${p.backend}\n`);
    }
    if (rules.length === 0) w.write(LEVEL_1, `*\t*\t${defaultBackend}\n`);
    printAnnotationsMultiline(w, 'Annotations', ing.metadata.annotations);
    if (events) describeEvents(events, w, ctx.now);
  });
}

export const ingressKind = defineKind({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  resource: 'ingresses',
  namespaced: true,
  schema: IngressSchema,
  shortNames: ['ing'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: ingressStrategy,
  printer: ingressPrinter,
  describer: describeIngress,
});
