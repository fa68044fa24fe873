/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which
 * kubectl's typed clients send (every `kubectl create <kind>` subcommand).
 *
 * A body is the magic `k8s\0` then a runtime.Unknown message
 * {1: typeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
 * 4: contentType}; `raw` is the object's message, whose field numbers and
 * types come from k8s.io/api's Go types (schema/k8s-types.generated.ts).
 * The result is the object as Go's JSON encoder would write the same Go
 * value: zero values of non-pointer `omitempty` fields dropped (the wire
 * carries them), pointers kept even when empty (`emptyDir: {}` matters).
 * Responses stay JSON; clients accept it.
 */
import { StatusError } from '../api/errors.js';
import type { GoField } from './schema/go-struct.js';
import { goStruct, isPointer, parseType, protoFields, structForKind, type SpecialType, type TypeRef } from './schema/types.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

class WireError extends Error {
  override name = 'WireError';
}

/** A protobuf wire-format reader over one message's bytes. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new WireError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new WireError('varint too long');
    }
  }

  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new WireError('truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  fixed(n: 4 | 8): DataView {
    if (this.pos + n > this.buf.length) throw new WireError('truncated fixed-width field');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return view;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.fixed(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.fixed(4);
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }
}

/** A raw field value as read: a varint, fixed bits or bytes. */
type Raw = { wire: 0; v: bigint } | { wire: 1 | 5; v: DataView } | { wire: 2; v: Uint8Array };

function readFields(buf: Uint8Array): { field: number; raw: Raw }[] {
  const r = new Reader(buf);
  const out: { field: number; raw: Raw }[] = [];
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw new WireError('field number 0');
    if (wire === 0) out.push({ field, raw: { wire, v: r.varint() } });
    else if (wire === 2) out.push({ field, raw: { wire, v: r.bytes() } });
    else if (wire === 1) out.push({ field, raw: { wire, v: r.fixed(8) } });
    else if (wire === 5) out.push({ field, raw: { wire, v: r.fixed(4) } });
    else throw new WireError(`unsupported wire type ${wire}`);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(raw: Raw): string {
  if (raw.wire !== 2) throw new WireError('expected a length-delimited string');
  return utf8.decode(raw.v);
}

function int(raw: Raw, bits: 32 | 64): number {
  if (raw.wire === 0) return Number(bits === 32 ? BigInt.asIntN(32, raw.v) : BigInt.asIntN(64, raw.v));
  if (raw.wire === 5) return raw.v.getInt32(0, true);
  if (raw.wire === 1) return Number(raw.v.getBigInt64(0, true));
  throw new WireError('expected an integer');
}

function messageBytes(raw: Raw): Uint8Array {
  if (raw.wire !== 2) throw new WireError('expected an embedded message');
  return raw.v;
}

/** Go's time.Time JSON form for metav1.Time (seconds) or MicroTime (microseconds). */
function timestamp(buf: Uint8Array, micro: boolean): string | null {
  let seconds = 0;
  let nanos = 0;
  for (const { field, raw } of readFields(buf)) {
    if (field === 1) seconds = int(raw, 64);
    else if (field === 2) nanos = int(raw, 32);
  }
  if (seconds === 0 && nanos === 0) return null;
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** Go's time.Duration String() for metav1.Duration. */
function goDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  const sign = nanos < 0 ? '-' : '';
  let n = Math.abs(nanos);
  if (n < 1e9) {
    if (n < 1e3) return `${sign}${n}ns`;
    if (n < 1e6) return `${sign}${n / 1e3}µs`;
    return `${sign}${n / 1e6}ms`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = n / 1e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function special(type: SpecialType, raw: Raw): unknown {
  const buf = messageBytes(raw);
  const fields = readFields(buf);
  const f = (n: number) => fields.filter((x) => x.field === n).pop()?.raw;
  switch (type) {
    case 'Quantity': {
      const s = f(1);
      return s ? text(s) : '0';
    }
    case 'IntOrString': {
      const t = f(1);
      if (t && int(t, 64) === 1) {
        const s = f(3);
        return s ? text(s) : '';
      }
      const i = f(2);
      return i ? int(i, 32) : 0;
    }
    case 'Time':
      return timestamp(buf, false);
    case 'MicroTime':
      return timestamp(buf, true);
    case 'Duration': {
      const d = f(1);
      return goDuration(d ? int(d, 64) : 0);
    }
    case 'FieldsV1':
    case 'RawExtension': {
      const r = f(1);
      if (!r) return {};
      const s = utf8.decode(messageBytes(r));
      try {
        return JSON.parse(s) as unknown;
      } catch {
        throw new WireError(`${type} holds invalid JSON`);
      }
    }
  }
}

function scalar(ref: TypeRef & { kind: 'scalar' }, raw: Raw): unknown {
  switch (ref.scalar) {
    case 'string':
      return text(raw);
    case 'bytes':
      return Buffer.from(messageBytes(raw)).toString('base64');
    case 'bool':
      if (raw.wire !== 0) throw new WireError('expected a bool');
      return raw.v !== 0n;
    case 'int32':
      return int(raw, 32);
    case 'int64':
      return int(raw, 64);
    case 'double':
      if (raw.wire === 1) return raw.v.getFloat64(0, true);
      if (raw.wire === 5) return raw.v.getFloat32(0, true);
      throw new WireError('expected a double');
  }
}

/** One (non-repeated) value of `ref`. */
function value(ref: TypeRef, raw: Raw): unknown {
  switch (ref.kind) {
    case 'scalar':
      return scalar(ref, raw);
    case 'special':
      return special(ref.special, raw);
    case 'struct':
      return message(messageBytes(raw), ref.name);
    case 'list':
    case 'map':
      throw new WireError('nested repeated values are not supported');
  }
}

/** Whether a scalar element type can arrive packed (several values in one length-delimited field). */
function packable(ref: TypeRef): boolean {
  return ref.kind === 'scalar' && ref.scalar !== 'string' && ref.scalar !== 'bytes';
}

function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** Decodes one message of Go struct `name` into its JSON form. */
function message(buf: Uint8Array, name: string): Record<string, unknown> {
  const byNumber = protoFields(name);
  const out: Record<string, unknown> = {};
  const lists = new Map<GoField, unknown[]>();
  const maps = new Map<GoField, Record<string, unknown>>();
  for (const { field, raw } of readFields(buf)) {
    const f = byNumber.get(field);
    // Fields this release does not know (a newer client) are skipped, as proto decoders do.
    if (!f) continue;
    const ref = parseType(f.type);
    if (ref.kind === 'list') {
      const list = lists.get(f) ?? [];
      lists.set(f, list);
      if (raw.wire === 2 && packable(ref.elem)) {
        const r = new Reader(raw.v);
        while (!r.done) {
          const sc = ref.elem as TypeRef & { kind: 'scalar' };
          if (sc.scalar === 'double') list.push(r.fixed(8).getFloat64(0, true));
          else list.push(scalar(sc, { wire: 0, v: r.varint() }));
        }
      } else list.push(value(ref.elem, raw));
      continue;
    }
    if (ref.kind === 'map') {
      const map = maps.get(f) ?? {};
      maps.set(f, map);
      let key = '';
      let val: unknown;
      for (const entry of readFields(messageBytes(raw))) {
        if (entry.field === 1) key = text(entry.raw);
        else if (entry.field === 2) val = value(ref.elem, entry.raw);
      }
      // A map entry without a value holds the value type's zero.
      map[key] = val ?? zeroOf(ref.elem);
      continue;
    }
    const v = value(ref, raw);
    if (f.inline) {
      if (v && typeof v === 'object') Object.assign(out, v);
      continue;
    }
    out[f.name] = v;
  }
  for (const [f, list] of lists) if (list.length > 0) out[f.name] = list;
  for (const [f, map] of maps) if (Object.keys(map).length > 0) out[f.name] = map;
  // Go's JSON encoder: omitempty drops zero non-pointer values; a zero Time is null, dropped too.
  for (const f of goStruct(name)?.fields ?? []) {
    if (f.inline || !(f.name in out)) continue;
    const v = out[f.name];
    if (v === null) delete out[f.name];
    else if (!isPointer(f) && f.omitempty && isZero(v)) delete out[f.name];
  }
  return out;
}

function zeroOf(ref: TypeRef): unknown {
  if (ref.kind === 'scalar') return ref.scalar === 'bool' ? false : ref.scalar === 'string' || ref.scalar === 'bytes' ? '' : 0;
  if (ref.kind === 'special') return ref.special === 'Quantity' ? '0' : ref.special === 'IntOrString' ? 0 : null;
  return {};
}

/**
 * Decodes a protobuf request body into the JSON object it stands for
 * (apiVersion and kind from the envelope). Malformed bodies are 400s.
 */
export function decodeProtobuf(body: Uint8Array | undefined): Record<string, unknown> {
  if (!body || body.length === 0) throw StatusError.badRequest('the request body is empty');
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) {
    throw StatusError.badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  try {
    let apiVersion = '';
    let kind = '';
    let raw: Uint8Array | undefined;
    for (const { field, raw: r } of readFields(body.subarray(4))) {
      if (field === 1) {
        for (const tm of readFields(messageBytes(r))) {
          if (tm.field === 1) apiVersion = text(tm.raw);
          else if (tm.field === 2) kind = text(tm.raw);
        }
      } else if (field === 2) raw = messageBytes(r);
      else if (field === 3 && text(r) !== '') throw StatusError.badRequest(`unsupported protobuf content encoding ${JSON.stringify(text(r))}`);
    }
    if (!kind) throw StatusError.badRequest("Object 'Kind' is missing in protobuf envelope");
    const struct = structForKind(apiVersion, kind);
    if (!struct) throw StatusError.badRequest(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}`);
    return { apiVersion, kind, ...message(raw ?? new Uint8Array(), struct) };
  } catch (err) {
    if (err instanceof WireError) throw StatusError.badRequest(`error decoding protobuf body: ${err.message}`);
    throw err;
  }
}
