/**
 * Counts what DynamoDB would bill for the requests that pass the emulator's
 * proxy (lib/sim/emulator.ts), by DynamoDB's own sizing rules, since the
 * emulator does not report consumed capacity:
 *
 * - item size: attribute names plus values (strings and binaries by length,
 *   numbers by about one byte per two significant digits plus one, maps and
 *   lists 3 bytes plus their elements);
 * - writes: 1 write request unit (WRU) per KB of the item written, the larger
 *   of old and new for a replacement or an update, the old size for a
 *   delete; transactions count 2 per KB; each write that touches a global
 *   secondary index costs the index's own units (projection ALL: the item's
 *   size), twice when the index key moves;
 * - reads: 1 read request unit (RRU) per 4 KB read, strongly consistent, half
 *   of that eventually consistent (GSI queries always are); a Query is billed
 *   on the total size of the items it read, rounded up once, at least one
 *   unit; projections do not make items cheaper;
 * - streams: GetRecords calls are counted (free when Lambda's event source
 *   mapping reads them, priced for any other reader).
 *
 * Item sizes are tracked from every write seen, so a read that projects only
 * keys is still billed on what it read.
 */
import { gunzipSync } from 'node:zlib';

type AV = Record<string, unknown>;

export interface Usage {
  calls: Record<string, number>;
  wru: number;
  rru: number;
  /** Of which: transactional writes, GSI writes, consistent and eventual reads. */
  transactWru: number;
  gsiWru: number;
  streamGetRecords: number;
  streamRecords: number;
  /** Time the emulator took (for scaling handler durations). */
  emulatorMs: number;
  requests: number;
}

export function emptyUsage(): Usage {
  return { calls: {}, wru: 0, rru: 0, transactWru: 0, gsiWru: 0, streamGetRecords: 0, streamRecords: 0, emulatorMs: 0, requests: 0 };
}

export function diffUsage(after: Usage, before: Usage): Usage {
  const calls: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.calls)) {
    const d = v - (before.calls[k] ?? 0);
    if (d) calls[k] = d;
  }
  return {
    calls,
    wru: after.wru - before.wru,
    rru: after.rru - before.rru,
    transactWru: after.transactWru - before.transactWru,
    gsiWru: after.gsiWru - before.gsiWru,
    streamGetRecords: after.streamGetRecords - before.streamGetRecords,
    streamRecords: after.streamRecords - before.streamRecords,
    emulatorMs: after.emulatorMs - before.emulatorMs,
    requests: after.requests - before.requests,
  };
}

function utf8(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** DynamoDB's size of one attribute value (wire JSON form). */
function valueSize(v: AV): number {
  if ('S' in v) return utf8(String(v.S));
  if ('N' in v) {
    const digits = String(v.N).replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if ('B' in v) return Buffer.from(String(v.B), 'base64').length;
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('SS' in v) return (v.SS as string[]).reduce((n, x) => n + utf8(x), 0);
  if ('NS' in v) return (v.NS as string[]).reduce((n, x) => n + valueSize({ N: x }), 0);
  if ('BS' in v) return (v.BS as string[]).reduce((n, x) => n + Buffer.from(x, 'base64').length, 0);
  if ('M' in v) return 3 + Object.entries(v.M as Record<string, AV>).reduce((n, [k, x]) => n + utf8(k) + valueSize(x) + 1, 0);
  if ('L' in v) return 3 + (v.L as AV[]).reduce((n, x) => n + valueSize(x) + 1, 0);
  return 0;
}

export function itemSize(item: Record<string, AV> | undefined): number {
  if (!item) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += utf8(k) + valueSize(v);
  return n;
}

const wu = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const ru = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

interface Known {
  size: number;
  /** The item's byNode index key, if it is in the index. */
  gsi?: string;
}

function keyOf(table: string, key: Record<string, AV> | undefined): string {
  return `${table}\0${String((key?.pk as AV | undefined)?.S ?? '')}\0${String((key?.sk as AV | undefined)?.S ?? '')}`;
}

function gsiOf(item: Record<string, AV> | undefined): string | undefined {
  const pk = item?.gsi1pk as AV | undefined;
  return pk?.S !== undefined ? `${String(pk.S)}\0${String((item?.gsi1sk as AV | undefined)?.S ?? '')}` : undefined;
}

export class CapacityMeter {
  private usage = emptyUsage();
  private readonly items = new Map<string, Known>();

  snapshot(): Usage {
    return { ...this.usage, calls: { ...this.usage.calls } };
  }

  /** The proxy's observer: one request and its answer. */
  observe(ex: { target: string; request: Buffer; status: number; response: Buffer; ms: number }): void {
    const op = ex.target.split('.').pop() ?? ex.target;
    const u = this.usage;
    u.calls[op] = (u.calls[op] ?? 0) + 1;
    u.requests++;
    u.emulatorMs += ex.ms;
    let req: Record<string, unknown> = {};
    let res: Record<string, unknown> = {};
    try {
      req = ex.request.length ? (JSON.parse(ex.request.toString('utf8')) as Record<string, unknown>) : {};
      const raw = ex.response[0] === 0x1f && ex.response[1] === 0x8b ? gunzipSync(ex.response) : ex.response;
      res = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return;
    }
    const ok = ex.status >= 200 && ex.status < 300;
    const table = String(req.TableName ?? '');
    switch (op) {
      case 'PutItem':
        this.write(table, req.Item as Record<string, AV>, 1, ok);
        break;
      case 'UpdateItem':
        this.update(table, req.Key as Record<string, AV>, res.Attributes as Record<string, AV> | undefined, ok);
        break;
      case 'DeleteItem':
        this.remove(table, req.Key as Record<string, AV>, 1, ok);
        break;
      case 'TransactWriteItems': {
        for (const t of (req.TransactItems as Record<string, Record<string, unknown>>[]) ?? []) {
          const [kind, body] = Object.entries(t)[0] ?? [];
          if (!body) continue;
          const tn = String(body.TableName ?? '');
          if (kind === 'Put') this.write(tn, body.Item as Record<string, AV>, 2, ok);
          else if (kind === 'Delete') this.remove(tn, body.Key as Record<string, AV>, 2, ok);
          else if (kind === 'Update') this.update(tn, body.Key as Record<string, AV>, undefined, ok, 2);
          else if (kind === 'ConditionCheck') this.charge(2 * wu(this.items.get(keyOf(tn, body.Key as Record<string, AV>))?.size ?? 0), 2);
        }
        break;
      }
      case 'BatchWriteItem': {
        for (const [tn, requests] of Object.entries((req.RequestItems as Record<string, Record<string, Record<string, unknown>>[]>) ?? {})) {
          for (const r of requests) {
            if (r.PutRequest) this.write(tn, r.PutRequest.Item as Record<string, AV>, 1, ok);
            if (r.DeleteRequest) this.remove(tn, r.DeleteRequest.Key as Record<string, AV>, 1, ok);
          }
        }
        break;
      }
      case 'GetItem': {
        const item = res.Item as Record<string, AV> | undefined;
        const size = item ? (this.items.get(keyOf(table, req.Key as Record<string, AV>))?.size ?? itemSize(item)) : 0;
        u.rru += ru(size) * (req.ConsistentRead ? 1 : 0.5);
        break;
      }
      case 'Query':
      case 'Scan': {
        const items = (res.Items as Record<string, AV>[] | undefined) ?? [];
        let bytes = 0;
        for (const it of items) bytes += this.items.get(keyOf(table, it))?.size ?? itemSize(it);
        const consistent = !!req.ConsistentRead && !req.IndexName;
        u.rru += ru(bytes) * (consistent ? 1 : 0.5);
        break;
      }
      case 'GetRecords':
        u.streamGetRecords++;
        u.streamRecords += ((res.Records as unknown[] | undefined) ?? []).length;
        break;
      default:
        break;
    }
  }

  private charge(units: number, factor: number): void {
    this.usage.wru += units;
    if (factor === 2) this.usage.transactWru += units;
  }

  private write(table: string, item: Record<string, AV>, factor: number, ok: boolean): void {
    const k = keyOf(table, item);
    const old = this.items.get(k);
    const size = itemSize(item);
    this.charge(factor * wu(Math.max(size, old?.size ?? 0)), factor);
    if (!ok) return;
    const gsi = gsiOf(item);
    this.chargeGsi(old?.gsi, gsi, Math.max(size, old?.size ?? 0));
    this.items.set(k, { size, ...(gsi ? { gsi } : {}) });
  }

  private remove(table: string, key: Record<string, AV>, factor: number, ok: boolean): void {
    const k = keyOf(table, key);
    const old = this.items.get(k);
    this.charge(factor * wu(old?.size ?? 0), factor);
    if (!ok) return;
    this.chargeGsi(old?.gsi, undefined, old?.size ?? 0);
    this.items.delete(k);
  }

  /** Updates here touch small bookkeeping items (counters, hints): their size is what came back, or what was last known. */
  private update(table: string, key: Record<string, AV>, attributes: Record<string, AV> | undefined, ok: boolean, factor = 1): void {
    const k = keyOf(table, key);
    const old = this.items.get(k);
    const size = Math.max(old?.size ?? 0, itemSize(key) + itemSize(attributes));
    this.charge(factor * wu(size), factor);
    if (ok) this.items.set(k, { size, ...(old?.gsi ? { gsi: old.gsi } : {}) });
  }

  private chargeGsi(before: string | undefined, after: string | undefined, size: number): void {
    if (!before && !after) return;
    const units = before && after && before !== after ? 2 * wu(size) : wu(size);
    this.usage.wru += units;
    this.usage.gsiWru += units;
  }
}
