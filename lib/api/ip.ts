/**
 * IP addresses as Kubernetes reads and checks them: k8s.io/utils/net's
 * ParseIPSloppy (Go's net.ParseIP before 1.17: IPv4 octets may carry leading
 * zeros, read as decimal) and the field checks of apimachinery's
 * util/validation/ip.go and core validation's ValidateNonSpecialIP, with
 * their messages. Hand-written because JavaScript parsers differ from Go's
 * exactly where it matters: inet_aton-style ones read `010` as octal 8, and
 * node:net refuses leading zeros kube accepts in legacy fields.
 */
import { fieldErrors, type FieldError } from './field-errors.js';

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6, as Go's net.IP holds it) and the family it was written in. */
export interface ParsedIP {
  bytes: Uint8Array;
  /** 4 for a dotted quad, 6 for anything written as IPv6 (IPv4-mapped included). */
  written: 4 | 6;
}

const V4_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      // An IPv4 tail stands for the last two groups.
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseV4(piece);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** ParseIPSloppy: undefined when the value is no IP address. */
export function parseIPSloppy(value: string): ParsedIP | undefined {
  if (value.includes(':')) {
    const bytes = parseV6(value);
    return bytes ? { bytes: Uint8Array.from(bytes), written: 6 } : undefined;
  }
  const v4 = parseV4(value);
  return v4 ? { bytes: Uint8Array.from([...V4_PREFIX, ...v4]), written: 4 } : undefined;
}

/** The IPv4 address an IPv4-mapped (or dotted) address holds, as Go's To4. */
function to4(ip: ParsedIP): Uint8Array | undefined {
  return V4_PREFIX.every((b, i) => ip.bytes[i] === b) ? ip.bytes.subarray(12) : undefined;
}

/** Go's net.IP.String(): dotted for IPv4 (IPv4-mapped included), RFC 5952 for IPv6. */
export function formatIP(ip: ParsedIP): string {
  const v4 = to4(ip);
  if (v4) return [...v4].join('.');
  const words = Array.from({ length: 8 }, (_, i) => (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!);
  // The longest run of two or more zero groups (the first of equals) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

export function isIPv4(ip: ParsedIP): boolean {
  return to4(ip) !== undefined;
}

function isUnspecified(ip: ParsedIP): boolean {
  const v4 = to4(ip);
  return v4 ? v4.every((b) => b === 0) : ip.bytes.every((b) => b === 0);
}

function isLoopback(ip: ParsedIP): boolean {
  const v4 = to4(ip);
  return v4 ? v4[0] === 127 : ip.bytes.subarray(0, 15).every((b) => b === 0) && ip.bytes[15] === 1;
}

function isLinkLocalUnicast(ip: ParsedIP): boolean {
  const v4 = to4(ip);
  return v4 ? v4[0] === 169 && v4[1] === 254 : ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80;
}

function isLinkLocalMulticast(ip: ParsedIP): boolean {
  const v4 = to4(ip);
  return v4 ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0 : ip.bytes[0] === 0xff && (ip.bytes[1]! & 0x0f) === 0x02;
}

const INVALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/**
 * IsValidIPForLegacyField with strict validation off (kube 1.35's default:
 * the StrictIPCIDRValidation gate is alpha): any address ParseIPSloppy reads.
 */
export function validateLegacyIP(field: string, value: string): FieldError[] {
  return parseIPSloppy(value) ? [] : [fieldErrors.invalid(field, value, INVALID_IP)];
}

/** IsValidIP: a valid address without leading zeros, not IPv4-mapped, in canonical form. */
export function validateIP(field: string, value: string): FieldError[] {
  const ip = parseIPSloppy(value);
  if (!ip) return [fieldErrors.invalid(field, value, INVALID_IP)];
  const errs: FieldError[] = [];
  // Leading zeros in a dotted quad (alone or as an IPv6 tail) are what ParseIPSloppy reads and a strict parser refuses.
  const dotted = ip.written === 4 ? value : value.slice(value.lastIndexOf(':') + 1);
  if (dotted.includes('.') && dotted.split('.').some((octet) => /^0[0-9]/.test(octet))) {
    errs.push(fieldErrors.invalid(field, value, 'must not have leading 0s'));
  }
  if (ip.written === 6 && isIPv4(ip)) errs.push(fieldErrors.invalid(field, value, 'must not be an IPv4-mapped IPv6 address'));
  if (errs.length > 0) return errs;
  const canonical = formatIP(ip);
  return value === canonical ? [] : [fieldErrors.invalid(field, value, `must be in canonical form (${JSON.stringify(canonical)})`)];
}

/**
 * ValidateNonSpecialIP: no unspecified, loopback, link-local or link-local
 * multicast address (used for Endpoints, EndpointSlices and external IPs:
 * those ranges belong to the node, e.g. 169.254.169.254, a cloud's metadata service).
 */
export function validateNonSpecialIP(field: string, value: string): FieldError[] {
  const ip = parseIPSloppy(value);
  if (!ip) return [fieldErrors.invalid(field, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  if (isUnspecified(ip)) errs.push(fieldErrors.invalid(field, value, `may not be unspecified (${value})`));
  if (isLoopback(ip)) errs.push(fieldErrors.invalid(field, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (isLinkLocalUnicast(ip)) errs.push(fieldErrors.invalid(field, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (isLinkLocalMulticast(ip)) errs.push(fieldErrors.invalid(field, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}
