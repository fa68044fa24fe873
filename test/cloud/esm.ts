/**
 * Lambda's DynamoDB event source mappings, played against the emulator's
 * stream: one reader per shard for all mappings (as Lambda's pollers share a
 * shard's reads), each mapping applying its own filters (records that match
 * none count as processed; a batch left empty invokes nothing), delivering
 * real-shaped DynamoDBStreamEvent batches to one of its function instances,
 * and redelivering from the first reported batchItemFailure. It may also
 * deliver a batch twice, or to two instances at once, as at-least-once
 * delivery can.
 *
 * moto quirk handled here: a cancelled TransactWriteItems makes moto restore
 * a copy of the table, stream included, so shard iterators taken before it
 * see no later records. An idle reader therefore takes a fresh iterator
 * after the last sequence number it read (harmless on DynamoDB and
 * LocalStack).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { passesFilters, type FilterPattern } from '#lib/cloud/stream-filters';
import { invocationContext } from '../functions/events.js';

type LambdaRecord = DynamoDBStreamEvent['Records'][number];
export type StreamFunction = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

export interface MappingStats {
  invocations: number;
  /** Change-log records delivered, per resource. */
  records: Map<string, number>;
  /** Change-log records the filters kept from the function, per resource. */
  filtered: Map<string, number>;
}

export interface Mapping {
  name: string;
  filters: readonly FilterPattern[];
  /** Execution environments of the function (separate module instances). */
  instances: StreamFunction[];
}

export interface Misbehaviour {
  /** Probability a batch is delivered twice. */
  duplicate?: number;
  /** Probability a batch goes to every instance at once. */
  parallel?: number;
}

/** Binary attributes as Lambda sends them: base64 strings. */
function lambdaImage(image: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const convert = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (Array.isArray(v)) return v.map(convert);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    return v;
  };
  return image ? (convert(image) as Record<string, unknown>) : undefined;
}

/** A GetRecords record as Lambda's event source mapping hands it to the function. */
export function toLambdaRecord(r: SdkRecord, streamArn: string): LambdaRecord {
  const d = r.dynamodb ?? {};
  return {
    eventID: r.eventID,
    eventName: r.eventName as 'INSERT' | 'MODIFY' | 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000) : undefined,
      Keys: lambdaImage(d.Keys as Record<string, unknown>) as never,
      NewImage: lambdaImage(d.NewImage as Record<string, unknown>) as never,
      OldImage: lambdaImage(d.OldImage as Record<string, unknown>) as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as 'NEW_AND_OLD_IMAGES',
    },
  };
}

function resourceOf(record: LambdaRecord): string | undefined {
  const pk = (record.dynamodb?.NewImage as { pk?: { S?: string } } | undefined)?.pk?.S;
  return pk?.startsWith('l#') ? pk.slice(2) : undefined;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export class EventSourceMappings {
  readonly stats = new Map<string, MappingStats>();
  private readonly ddb = new DynamoDBClient({});
  private readonly streams = new DynamoDBStreamsClient({});
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly tableName: string,
    private readonly mappings: Mapping[],
    private readonly misbehaviour: Misbehaviour = {},
    private readonly random: () => number = Math.random,
  ) {
    for (const m of mappings) this.stats.set(m.name, { invocations: 0, records: new Map(), filtered: new Map() });
  }

  async start(): Promise<void> {
    const table = await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.tableName} has no stream`);
    this.loop = this.run(arn);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.ddb.destroy();
    this.streams.destroy();
  }

  private async iterator(arn: string, shard: string, after: string | undefined): Promise<string | undefined> {
    const out = await this.streams.send(
      new GetShardIteratorCommand(after ? { StreamArn: arn, ShardId: shard, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { StreamArn: arn, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    return out.ShardIterator;
  }

  private async run(arn: string): Promise<void> {
    const shards = new Map<string, { iterator: string | undefined; last: string | undefined; idleSince: number }>();
    /** Records of a failed batch, delivered again before newer ones (per mapping). */
    const pending = new Map<string, LambdaRecord[]>();
    let described = 0;
    while (!this.stopped) {
      try {
        if (Date.now() - described > 3_000) {
          described = Date.now();
          const desc = await this.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
          for (const s of desc.StreamDescription?.Shards ?? []) {
            if (s.ShardId && !shards.has(s.ShardId)) shards.set(s.ShardId, { iterator: await this.iterator(arn, s.ShardId, undefined), last: undefined, idleSince: Date.now() });
          }
        }
        let got = 0;
        for (const [id, shard] of shards) {
          if (this.stopped) break;
          if (!shard.iterator || Date.now() - shard.idleSince > 1_000) {
            shard.iterator = await this.iterator(arn, id, shard.last);
            shard.idleSince = Date.now();
          }
          if (!shard.iterator) continue;
          const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 100 }));
          shard.iterator = out.NextShardIterator;
          const records = (out.Records ?? []).map((r) => toLambdaRecord(r, arn));
          if (records.length === 0) continue;
          got += records.length;
          shard.idleSince = Date.now();
          shard.last = records.at(-1)!.dynamodb?.SequenceNumber ?? shard.last;
          for (const m of this.mappings) {
            const batch = [...(pending.get(m.name) ?? []), ...records];
            pending.delete(m.name);
            const retry = await this.deliver(m, batch);
            if (retry.length > 0) pending.set(m.name, retry);
          }
        }
        if (got === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      } catch (err) {
        if (!this.stopped) console.error(`event source mappings: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** One batch through one mapping: filtered, invoked, the records to redeliver returned (from the first failure on). */
  private async deliver(m: Mapping, batch: LambdaRecord[]): Promise<LambdaRecord[]> {
    const stats = this.stats.get(m.name)!;
    const kept = batch.filter((r) => {
      const pass = passesFilters(m.filters, r);
      const resource = resourceOf(r);
      if (resource) bump(pass ? stats.records : stats.filtered, resource);
      return pass;
    });
    if (kept.length === 0) return [];
    const times = this.misbehaviour.duplicate && this.random() < this.misbehaviour.duplicate ? 2 : 1;
    let failedFrom: string | undefined;
    for (let t = 0; t < times; t++) {
      const together = this.misbehaviour.parallel !== undefined && this.random() < this.misbehaviour.parallel;
      const targets = together ? m.instances : [m.instances[Math.floor(this.random() * m.instances.length)]!];
      stats.invocations += targets.length;
      const results = await Promise.all(targets.map((fn) => fn({ Records: kept }, invocationContext(60_000))));
      for (const r of results) {
        const f = (r as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)?.batchItemFailures?.[0]?.itemIdentifier;
        if (f && (!failedFrom || f < failedFrom)) failedFrom = f;
      }
    }
    if (!failedFrom) return [];
    const i = kept.findIndex((r) => r.dynamodb?.SequenceNumber === failedFrom);
    return i < 0 ? [] : kept.slice(i);
  }
}
