/** Strategies for a Service's address lists: core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlices. */
import type { Endpoints } from '../../api/core/v1/endpoints.js';
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { isIPv4, parseIPSloppy, validateIP, validateLegacyIP, validateNonSpecialIP } from '../../api/ip.js';
import { dns1123Label, dns1123Subdomain } from '../../api/validation.js';
import type { AdmissionConfig, Strategy } from '../strategy.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validPort(port: number | null | undefined, field: string): FieldError[] {
  if (port === undefined || port === null) return [];
  return port < 1 || port > 65535 ? [fieldErrors.invalid(field, port, 'must be between 1 and 65535, inclusive')] : [];
}

/**
 * ValidateNonSpecialIP, with loopback allowed where the cluster's own nodes
 * live on it (AdmissionConfig.loopbackEndpoints): an endpoint must not point
 * a Service at a node's own services or its cloud's metadata address.
 */
function nonSpecial(field: string, ip: string, admission: AdmissionConfig): FieldError[] {
  const errs = validateNonSpecialIP(field, ip);
  return admission.loopbackEndpoints ? errs.filter((e) => !e.message.includes('loopback range')) : errs;
}

function validateEndpointAddress(
  a: { ip: string; hostname?: string | null; nodeName?: string | null },
  path: string,
  admission: AdmissionConfig,
): FieldError[] {
  const errs = validateIP(`${path}.ip`, a.ip);
  if (a.hostname) for (const msg of dns1123Label(a.hostname)) errs.push(fieldErrors.invalid(`${path}.hostname`, a.hostname, msg));
  if (a.nodeName !== undefined && a.nodeName !== null)
    for (const msg of dns1123Subdomain(a.nodeName)) errs.push(fieldErrors.invalid(`${path}.nodeName`, a.nodeName, msg));
  return [...errs, ...nonSpecial(`${path}.ip`, a.ip, admission)];
}

/** An EndpointSlice address of an IP address type: a legacy-form IP of that family, not special. */
function validateSliceIP(field: string, address: string, family: 4 | 6, admission: AdmissionConfig): FieldError[] {
  const errs = validateLegacyIP(field, address);
  if (errs.length > 0) return errs;
  const ip = parseIPSloppy(address)!;
  if (isIPv4(ip) !== (family === 4)) errs.push(fieldErrors.invalid(field, address, `must be an IPv${family} address`));
  return [...errs, ...nonSpecial(field, address, admission)];
}

export const endpointsStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    for (const s of (obj as Endpoints).subsets ?? []) for (const p of s.ports ?? []) p.protocol ??= 'TCP';
  },
  validate(obj, ctx) {
    const errs: FieldError[] = [];
    for (const [i, s] of ((obj as Endpoints).subsets ?? []).entries()) {
      const f = `subsets[${i}]`;
      if ((s.addresses ?? []).length === 0 && (s.notReadyAddresses ?? []).length === 0) {
        errs.push(fieldErrors.required(f, 'must specify `addresses` or `notReadyAddresses`'));
      }
      for (const key of ['addresses', 'notReadyAddresses'] as const) {
        for (const [j, a] of (s[key] ?? []).entries()) errs.push(...validateEndpointAddress(a, `${f}.${key}[${j}]`, ctx.admission));
      }
      const ports = s.ports ?? [];
      for (const [j, p] of ports.entries()) {
        const pp = `${f}.ports[${j}]`;
        if (ports.length > 1 && !p.name) errs.push(fieldErrors.required(`${pp}.name`));
        else if (p.name) for (const msg of dns1123Label(p.name)) errs.push(fieldErrors.invalid(`${pp}.name`, p.name, msg));
        errs.push(...validPort(p.port, `${pp}.port`));
        if (p.protocol && !PROTOCOLS.includes(p.protocol)) errs.push(fieldErrors.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
      }
    }
    return errs;
  },
};

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

export const endpointSliceStrategy: Strategy = {
  defaults(obj) {
    const slice = obj as EndpointSlice;
    for (const p of slice.ports ?? []) p.protocol ??= 'TCP';
  },
  validate(obj, ctx) {
    const slice = obj as EndpointSlice;
    const errs: FieldError[] = [];
    if (!ADDRESS_TYPES.includes(slice.addressType)) errs.push(fieldErrors.notSupported('addressType', slice.addressType, ADDRESS_TYPES));
    const endpoints = slice.endpoints ?? [];
    if (endpoints.length > 1000)
      errs.push({ type: 'FieldValueTooLong', field: 'endpoints', message: `Too many: ${endpoints.length}: must have at most 1000 items` });
    for (const [i, e] of endpoints.entries()) {
      if (e.addresses.length < 1 || e.addresses.length > 100) errs.push(fieldErrors.required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
      for (const [j, a] of e.addresses.entries()) {
        const f = `endpoints[${i}].addresses[${j}]`;
        if (slice.addressType === 'IPv4' || slice.addressType === 'IPv6')
          errs.push(...validateSliceIP(f, a, slice.addressType === 'IPv4' ? 4 : 6, ctx.admission));
      }
      if (e.hostname !== undefined && e.hostname !== null)
        for (const msg of dns1123Label(e.hostname)) errs.push(fieldErrors.invalid(`endpoints[${i}].hostname`, e.hostname, msg));
    }
    for (const [i, p] of (slice.ports ?? []).entries()) {
      errs.push(...validPort(p.port, `ports[${i}].port`));
      if (p.name) for (const msg of dns1123Label(p.name)) errs.push(fieldErrors.invalid(`ports[${i}].name`, p.name, msg));
      if (p.protocol && !PROTOCOLS.includes(p.protocol)) errs.push(fieldErrors.notSupported(`ports[${i}].protocol`, p.protocol, PROTOCOLS));
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const now = (obj as EndpointSlice).addressType;
    const before = (old as EndpointSlice).addressType;
    return now !== before ? [fieldErrors.invalid('addressType', now, 'field is immutable')] : [];
  },
};
