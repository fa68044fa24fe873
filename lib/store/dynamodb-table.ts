/**
 * The DynamoDB table behind DynamoDbStore: its schema (one constant, shared
 * with the CDK stack), the key layout, and the item codecs. Stream consumers
 * (controllers fed by DynamoDB Streams) decode images with the helpers here,
 * so the layout is written down once. See docs/store.md for the design.
 *
 * Key layout (pk / sk), `<resource>` being the store key (lib/api/store-key.ts:
 * `pods`, `example.com/events`):
 * - objects:   `o#<resource>` / `<namespace>#<name>`  (cluster-scoped: namespace '')
 *              rev (N), data (B: gzipped JSON), gsi1pk/gsi1sk for pods bound to a node
 *              (no separate namespace/name attributes: the sort key has them,
 *              and a typical pod's item sits right at the 1 KB write unit)
 * - log:       `l#<resource>` / 20-digit zero-padded revision
 *              type, ns, name, data (B: see encodeChange), prevRev (N, DELETED only),
 *              ts (N, ms), ttl (N, s)
 * - counters:  `c#<resource>` / `c`  rev, compacted, head (N)
 * - directory: `r` / `<resource>`  (which resources have counters; read by compact)
 *
 * `#` separates namespace and name because it sorts below every character a
 * namespace may contain ([a-z0-9-]), so keys order by (namespace, name) as the
 * SQLite backend does: `kube#x` < `kube-system#y`, which `/` would reverse.
 */
import { type AttributeValue, CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KObject } from '../api/object.js';

export type Item = Record<string, AttributeValue>;

/**
 * The table's schema. Values are the DynamoDB API's own strings, which are
 * also the values of the CDK enums (`AttributeType.STRING === 'S'`,
 * `StreamViewType.NEW_AND_OLD_IMAGES`, `ProjectionType.ALL`,
 * `BillingMode.PAY_PER_REQUEST`), so the CDK stack maps it field by field.
 */
export const STORE_TABLE_SCHEMA = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  billingMode: 'PAY_PER_REQUEST',
  stream: 'NEW_AND_OLD_IMAGES',
  timeToLiveAttribute: 'ttl',
  globalSecondaryIndexes: [
    {
      /** Pods bound to a node (sparse: only items with gsi1pk are in it). */
      indexName: 'byNode',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
    },
  ],
} as const;

export const BY_NODE_INDEX = STORE_TABLE_SCHEMA.globalSecondaryIndexes[0].indexName;

/** Creates the store table with STORE_TABLE_SCHEMA and waits until it is active (tests, `kumo` tooling; production uses CDK). */
export async function createStoreTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const s = STORE_TABLE_SCHEMA;
  const attributes = new Map<string, string>();
  for (const k of [s.partitionKey, s.sortKey, ...s.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])]) attributes.set(k.name, k.type);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: s.billingMode,
      KeySchema: [
        { AttributeName: s.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: s.sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as 'S' })),
      GlobalSecondaryIndexes: s.globalSecondaryIndexes.map((g) => ({
        IndexName: g.indexName,
        KeySchema: [
          { AttributeName: g.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: g.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: g.projection },
      })),
      StreamSpecification: { StreamEnabled: true, StreamViewType: s.stream },
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: s.timeToLiveAttribute, Enabled: true },
    }),
  );
}

// ---- keys ----

export const SEP = '#';

const OBJECT_PREFIX = 'o#';
const LOG_PREFIX = 'l#';

export function objectPk(resource: string): string {
  return `${OBJECT_PREFIX}${resource}`;
}

export function objectSk(namespace: string, name: string): string {
  return `${namespace}${SEP}${name}`;
}

export function logPk(resource: string): string {
  return `${LOG_PREFIX}${resource}`;
}

/** The store key (resource) of a log item's partition key; undefined for other items. */
export function resourceOfLogPk(pk: string | undefined): string | undefined {
  return pk?.startsWith(LOG_PREFIX) ? pk.slice(LOG_PREFIX.length) : undefined;
}

/** The store key (resource) of an object item's partition key; undefined for other items. */
function resourceOfObjectPk(pk: string | undefined): string | undefined {
  return pk?.startsWith(OBJECT_PREFIX) ? pk.slice(OBJECT_PREFIX.length) : undefined;
}

/** Zero-padded so string order is revision order. */
export function logSk(revision: number): string {
  return String(revision).padStart(20, '0');
}

export function counterKey(resource: string): Item {
  return { pk: { S: `c#${resource}` }, sk: { S: 'c' } };
}

export const DIRECTORY_PK = 'r';

export function nodePk(nodeName: string): string {
  return `pods@${nodeName}`;
}

// ---- codecs ----

/** Objects are stored gzipped: Kubernetes JSON compresses 2-5x, and write units are billed per KB. */
export function encodeObject(obj: KObject): Uint8Array {
  return gzipSync(JSON.stringify(obj));
}

/**
 * A log entry's `data`: the object and, for MODIFIED, the previous object,
 * one JSON document a line, gzipped together. The two are nearly the same,
 * so the second costs ~5% rather than a second copy (a typical pod's
 * MODIFIED entry stays under one write unit).
 */
export function encodeChange(object: KObject, prev: KObject | undefined): Uint8Array {
  return gzipSync(prev ? `${JSON.stringify(object)}\n${JSON.stringify(prev)}` : JSON.stringify(object));
}

export function decodeChange(bytes: Uint8Array | string): { object: KObject; prev?: KObject } {
  const raw = typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes;
  // JSON.stringify never emits a raw newline, so the first one separates the documents.
  const text = gunzipSync(raw).toString('utf8');
  const cut = text.indexOf('\n');
  if (cut < 0) return { object: JSON.parse(text) as KObject };
  return { object: JSON.parse(text.slice(0, cut)) as KObject, prev: JSON.parse(text.slice(cut + 1)) as KObject };
}

/**
 * A log entry's change attributes: `data` (encodeChange; the previous object
 * only for MODIFIED) and, for DELETED, `prevRev`: the deleted object's
 * revision before the deletion. A deletion changes nothing else, so that is
 * all the previous object needs, and a deletion's entry is never larger than
 * its object's (a near-limit object stays deletable).
 */
export function encodeLogChange(event: { type: string; object: KObject; prev?: KObject | undefined }): Item {
  const prevRev = event.type === 'DELETED' ? event.prev?.metadata.resourceVersion : undefined;
  return {
    data: { B: encodeChange(event.object, event.type === 'MODIFIED' ? event.prev : undefined) },
    ...(prevRev ? { prevRev: { N: prevRev } } : {}),
  };
}

/** The object and previous object of a log item (or a stream image of one); DELETED entries written before prevRev have no previous object. */
export function decodeLogChange(
  type: string,
  item: { data?: { B?: Uint8Array | string | undefined }; prevRev?: { N?: string | undefined } },
): { object: KObject; prev?: KObject } {
  const change = decodeChange(item.data!.B!);
  const prevRev = item.prevRev?.N;
  if (type !== 'DELETED' || prevRev === undefined) return change;
  return { object: change.object, prev: { ...change.object, metadata: { ...change.object.metadata, resourceVersion: prevRev } } };
}

/** The namespace and name in an object item's sort key. */
export function splitObjectSk(sk: string): { namespace: string; name: string } {
  const cut = sk.indexOf(SEP);
  return { namespace: sk.slice(0, cut), name: sk.slice(cut + 1) };
}

/** Accepts the raw bytes (SDK) or base64 text (a Lambda stream event's image). */
export function decodeObject(bytes: Uint8Array | string): KObject {
  const raw = typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes;
  return JSON.parse(gunzipSync(raw).toString('utf8')) as KObject;
}

export type LogType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'GAP';

export interface LogEntry {
  revision: number;
  type: LogType;
  /** When the entry was written (ms since the epoch, the store's clock). */
  ts: number;
  item: Item;
}

export function num(v: AttributeValue | undefined): number | undefined {
  return v?.N !== undefined ? Number(v.N) : undefined;
}

export function parseLogEntry(item: Item): LogEntry {
  return {
    revision: Number(item.sk!.S),
    type: (item.type?.S ?? 'GAP') as LogType,
    ts: num(item.ts) ?? 0,
    item,
  };
}

/** The object an object item (or a stream image of one) holds. */
export function objectOfItem(item: Item): KObject | undefined {
  const data = item.data?.B;
  return data ? decodeObject(data) : undefined;
}

/** An item image as a DynamoDB stream record carries it (binary as base64 in Lambda events, as bytes from the SDK). */
export type StreamImage = Record<string, { S?: string; N?: string; B?: string | Uint8Array }>;

export interface DecodedLogImage {
  resource: string;
  type: Exclude<LogType, 'GAP'>;
  revision: number;
  object: KObject;
  prev?: KObject;
}

/** What a stream record's image of a log item says, for stream consumers; undefined for other items and for GAPs. */
export function decodeLogImage(image: StreamImage): DecodedLogImage | undefined {
  const resource = resourceOfLogPk(image.pk?.S);
  const type = image.type?.S;
  const data = image.data?.B;
  if (resource === undefined || !data || (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED')) return undefined;
  return { resource, type, revision: Number(image.sk?.S), ...decodeLogChange(type, image) };
}

/** The resource, key and object of an object item's image; undefined for other items. */
export function decodeObjectImage(image: StreamImage): { resource: string; namespace: string; name: string; object: KObject } | undefined {
  const resource = resourceOfObjectPk(image.pk?.S);
  const sk = image.sk?.S;
  const data = image.data?.B;
  if (resource === undefined || sk === undefined || !data) return undefined;
  return { resource, ...splitObjectSk(sk), object: decodeObject(data) };
}
