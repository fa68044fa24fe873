/** Strategies for the core/v1 kinds other than pods, and for leases. */
import type { ConfigMap } from '../../api/core/v1/configmap.js';
import type { Event } from '../../api/core/v1/event.js';
import type { Namespace } from '../../api/core/v1/namespace.js';
import type { Node } from '../../api/core/v1/node.js';
import type { Secret } from '../../api/core/v1/secret.js';
import type { Service } from '../../api/core/v1/service.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { NAMESPACE_FINALIZER } from '../../api/core/v1/namespace.js';
import type { KObject } from '../../api/object.js';
import { validateLegacyIP, validateNonSpecialIP } from '../../api/ip.js';
import { dns1035Label, dns1123Label, ianaServiceName } from '../../api/validation.js';
import { deepEqual } from '../../util/json.js';
import type { Strategy } from '../strategy.js';
import { allocateServiceAddresses, keepServiceAddresses, releaseServiceAddresses } from './service-alloc.js';

/** The namespaces every cluster starts with (the namespace kind's bootstrap), which may not be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export const namespaceStrategy: Strategy = {
  noGeneration: true,
  nameRule: dns1123Label,
  // Kubernetes' NamespaceLifecycle admission keeps default, kube-system and kube-public; kumo keeps
  // kube-node-lease too, where its nodes' leases live (kube re-creates it from a controller instead).
  forbidDelete(obj) {
    return (SYSTEM_NAMESPACES as readonly string[]).includes(obj.metadata.name ?? '') ? 'this namespace may not be deleted' : undefined;
  },
  prepareForCreate(obj) {
    const ns = obj as Namespace;
    ns.spec = { finalizers: [NAMESPACE_FINALIZER] };
    ns.status = { phase: 'Active' };
    ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name ?? '' };
  },
  holdsDeletion(obj) {
    return ((obj as Namespace).spec?.finalizers ?? []).length > 0;
  },
  prepareForDelete(obj) {
    (obj as Namespace).status = { ...((obj as Namespace).status ?? {}), phase: 'Terminating' };
  },
  prepareForStatusUpdate(obj, old) {
    return { ...structuredClone(old), status: structuredClone(obj.status) } as KObject;
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers changes only through the finalize subresource.
    (obj as Namespace).spec = structuredClone((old as Namespace).spec);
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': old.metadata.name ?? '' };
  },
};

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function validateKeys(data: Record<string, unknown> | null | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of Object.keys(data ?? {})) {
    if (!CONFIG_KEY.test(key) || key.length > 253) {
      errs.push(
        fieldErrors.invalid(
          `${field}[${key}]`,
          key,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
      );
    }
  }
  return errs;
}

/** core.MaxSecretSize: the most data a ConfigMap or Secret holds, in bytes (both are kept whole in memory by every reader). */
const MAX_DATA_BYTES = 1024 * 1024;

/** Bytes a base64 value decodes to. */
function decodedBytes(v: unknown): number {
  return typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
}

function tooLong(field: string): FieldError {
  return { type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${MAX_DATA_BYTES} bytes` };
}

/** What `immutable: true` freezes (ValidateConfigMapUpdate / ValidateSecretUpdate): the flag itself and the data fields. */
function validateImmutable(obj: Record<string, unknown>, old: Record<string, unknown>, fields: readonly string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) errs.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!deepEqual(obj[f] ?? null, old[f] ?? null)) errs.push(fieldErrors.forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

export const configMapStrategy: Strategy = {
  noGeneration: true,
  validate(obj) {
    const cm = obj as ConfigMap;
    const errs = [...validateKeys(cm.data, 'data'), ...validateKeys(cm.binaryData, 'binaryData')];
    for (const key of Object.keys(cm.data ?? {})) {
      if (cm.binaryData && key in cm.binaryData) errs.push(fieldErrors.invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    }
    let size = 0;
    for (const v of Object.values(cm.data ?? {})) size += typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0;
    for (const v of Object.values(cm.binaryData ?? {})) size += decodedBytes(v);
    // The whole object is at fault: an empty field path, as Kubernetes reports it.
    if (size > MAX_DATA_BYTES) errs.push(tooLong(''));
    return errs;
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj as Record<string, unknown>, old as Record<string, unknown>, ['data', 'binaryData']);
  },
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const secretStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    const s = obj as Secret;
    s.type ??= 'Opaque';
    // stringData is write-only: fold it into data, as the Kubernetes API does.
    if (s.stringData) {
      s.data = { ...(s.data ?? {}) };
      for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(v, 'utf8').toString('base64');
      delete s.stringData;
    }
  },
  validate(obj) {
    const s = obj as Secret;
    const errs = validateKeys(s.data, 'data');
    let size = 0;
    for (const [k, v] of Object.entries(s.data ?? {})) {
      if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v))
        errs.push(fieldErrors.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
      size += decodedBytes(v);
    }
    if (size > MAX_DATA_BYTES) errs.push(tooLong('data'));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    if ((obj as Secret).type !== (old as Secret).type) errs.push(fieldErrors.invalid('type', (obj as Secret).type, 'field is immutable'));
    errs.push(...validateImmutable(obj as Record<string, unknown>, old as Record<string, unknown>, ['data']));
    return errs;
  },
};

export const serviceStrategy: Strategy = {
  noGeneration: true,
  // ValidateServiceName: a DNS-1035 label (a Service's name becomes a DNS name and environment variables).
  nameRule: dns1035Label,
  defaults(obj) {
    const svc = obj as Service;
    const spec = (svc.spec ??= {});
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    if (spec.type !== 'ExternalName') {
      spec.internalTrafficPolicy ??= 'Cluster';
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
  },
  prepareForCreate(obj) {
    (obj as Service).status = { loadBalancer: {} };
  },
  allocate: allocateServiceAddresses,
  afterWrite: releaseServiceAddresses,
  prepareForUpdate(obj, old) {
    keepServiceAddresses(obj, old);
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    const ip = (obj as Service).spec?.clusterIP;
    const prev = (old as Service).spec?.clusterIP;
    if (prev && ip && ip !== prev && (obj as Service).spec?.type !== 'ExternalName')
      errs.push(fieldErrors.invalid('spec.clusterIPs[0]', ip, 'may not change once set'));
    return errs;
  },
  validate(obj) {
    const svc = obj as Service;
    const spec = svc.spec ?? {};
    const errs: FieldError[] = [];
    const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
    if (spec.type && !types.includes(spec.type)) errs.push(fieldErrors.notSupported('spec.type', spec.type, types));
    if (spec.type !== 'ExternalName' && (spec.ports ?? []).length === 0 && spec.clusterIP !== 'None') errs.push(fieldErrors.required('spec.ports'));
    if (spec.sessionAffinity && !['None', 'ClientIP'].includes(spec.sessionAffinity)) {
      errs.push(fieldErrors.notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
    }
    for (const [i, ip] of (spec.externalIPs ?? []).entries()) {
      const f = `spec.externalIPs[${i}]`;
      const bad = validateLegacyIP(f, ip);
      errs.push(...(bad.length > 0 ? bad : validateNonSpecialIP(f, ip)));
    }
    const ports = spec.ports ?? [];
    const names = new Set<string>();
    for (const [i, p] of ports.entries()) {
      const pp = `spec.ports[${i}]`;
      if (ports.length > 1 && !p.name) errs.push(fieldErrors.required(`${pp}.name`));
      if (p.name) {
        if (names.has(p.name)) errs.push(fieldErrors.duplicate(`${pp}.name`, p.name));
        names.add(p.name);
      }
      if (p.port < 1 || p.port > 65535) errs.push(fieldErrors.invalid(`${pp}.port`, p.port, 'must be between 1 and 65535, inclusive'));
      if (p.protocol && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) errs.push(fieldErrors.notSupported(`${pp}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
      const tp = p.targetPort;
      if (typeof tp === 'number' && (tp < 1 || tp > 65535)) errs.push(fieldErrors.invalid(`${pp}.targetPort`, tp, 'must be between 1 and 65535, inclusive'));
      if (typeof tp === 'string') for (const msg of ianaServiceName(tp)) errs.push(fieldErrors.invalid(`${pp}.targetPort`, tp, msg));
      if (p.nodePort !== undefined && p.nodePort !== null && p.nodePort !== 0 && spec.type === 'ClusterIP') {
        errs.push(fieldErrors.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      }
    }
    return errs;
  },
};

export const nodeStrategy: Strategy = {
  noGeneration: true,
  prepareForCreate(obj) {
    const node = obj as Node;
    node.spec ??= {};
  },
  prepareForStatusUpdate(obj, old) {
    return { ...structuredClone(old), status: structuredClone(obj.status) } as KObject;
  },
  validate(obj) {
    const node = obj as Node;
    const errs: FieldError[] = [];
    for (const [i, t] of (node.spec?.taints ?? []).entries()) {
      if (!t.key) errs.push(fieldErrors.required(`spec.taints[${i}].key`));
      if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
        errs.push(fieldErrors.notSupported(`spec.taints[${i}].effect`, t.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
      }
    }
    return errs;
  },
};

export const eventStrategy: Strategy = {
  noGeneration: true,
  validate(obj) {
    const ev = obj as Event;
    const errs: FieldError[] = [];
    if (!ev.involvedObject) errs.push(fieldErrors.required('involvedObject'));
    if (ev.type && !['Normal', 'Warning'].includes(ev.type)) errs.push(fieldErrors.notSupported('type', ev.type, ['Normal', 'Warning']));
    return errs;
  },
};
