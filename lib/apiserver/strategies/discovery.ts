/** Strategies for a Service's address lists: core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlices. */
import type { Endpoints } from '../../api/core/v1/endpoints.js';
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { dns1123Label } from '../../api/validation.js';
import type { Strategy } from '../strategy.js';
import { ipToNumber } from './service-alloc.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validPort(port: number | null | undefined, field: string): FieldError[] {
  if (port === undefined || port === null) return [];
  return port < 1 || port > 65535 ? [fieldErrors.invalid(field, port, 'must be between 1 and 65535, inclusive')] : [];
}

export const endpointsStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    for (const s of (obj as Endpoints).subsets ?? []) for (const p of s.ports ?? []) p.protocol ??= 'TCP';
  },
  validate(obj) {
    const errs: FieldError[] = [];
    for (const [i, s] of ((obj as Endpoints).subsets ?? []).entries()) {
      const f = `subsets[${i}]`;
      for (const key of ['addresses', 'notReadyAddresses'] as const) {
        for (const [j, a] of (s[key] ?? []).entries()) {
          if (ipToNumber(a.ip) === undefined && !a.ip.includes(':')) errs.push(fieldErrors.invalid(`${f}.${key}[${j}].ip`, a.ip, 'must be a valid IP address'));
        }
      }
      for (const [j, p] of (s.ports ?? []).entries()) {
        errs.push(...validPort(p.port, `${f}.ports[${j}].port`));
        if (p.protocol && !PROTOCOLS.includes(p.protocol)) errs.push(fieldErrors.notSupported(`${f}.ports[${j}].protocol`, p.protocol, PROTOCOLS));
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
  validate(obj) {
    const slice = obj as EndpointSlice;
    const errs: FieldError[] = [];
    if (!ADDRESS_TYPES.includes(slice.addressType)) errs.push(fieldErrors.notSupported('addressType', slice.addressType, ADDRESS_TYPES));
    const endpoints = slice.endpoints ?? [];
    if (endpoints.length > 1000) errs.push({ type: 'FieldValueTooLong', field: 'endpoints', message: `Too many: ${endpoints.length}: must have at most 1000 items` });
    for (const [i, e] of endpoints.entries()) {
      if (e.addresses.length < 1 || e.addresses.length > 100) errs.push(fieldErrors.required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
      for (const [j, a] of e.addresses.entries()) {
        if (slice.addressType === 'IPv4' && ipToNumber(a) === undefined) errs.push(fieldErrors.invalid(`endpoints[${i}].addresses[${j}]`, a, 'must be a valid IPv4 address'));
      }
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

