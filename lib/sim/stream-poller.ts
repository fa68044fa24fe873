/**
 * Plays Lambda's DynamoDB event source mapping against an emulator: reads
 * the table's stream with GetRecords and invokes handlers with real-shaped
 * DynamoDBStreamEvent batches (binary attributes base64, as Lambda sends
 * them), retrying from a reported batchItemFailure. It can also misbehave
 * the ways delivery may: duplicate batches, reorder records within a batch,
 * drop batches (left to the resync to repair), and invoke two handler
 * instances with the same batch at once.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import { defaultLogger, type Logger } from '../log/logger.js';

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] } | unknown>;

export interface Chaos {
  /** Probability a batch is delivered twice. */
  duplicate?: number;
  /** Shuffle the records of each batch. */
  reorder?: boolean;
  /** Probability a batch is never delivered. */
  drop?: number;
  /** Probability a batch goes to every handler instance of a consumer at the same time. */
  parallel?: number;
}

export interface Consumer {
  name: string;
  /** One or more instances of the handler (separate module instances model separate Lambda containers). */
  instances: StreamHandler[];
  /**
   * Drops records before the handler is invoked, as an event source mapping's
   * filter criteria do (a batch left empty invokes nothing).
   */
  filter?: (record: DynamoDBStreamEvent['Records'][number]) => boolean;
}

/** What one delivery cost: for metering (the benchmarks' cost model). */
export interface Invocation {
  consumer: string;
  records: number;
  ms: number;
}

function toLambdaImage(image: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!image) return undefined;
  const convert = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (Array.isArray(v)) return v.map(convert);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    return v;
  };
  return convert(image) as Record<string, unknown>;
}

export function toLambdaRecord(r: SdkRecord, streamArn: string): DynamoDBStreamEvent['Records'][number] {
  const d = r.dynamodb ?? {};
  return {
    eventID: r.eventID,
    eventName: r.eventName as 'INSERT' | 'MODIFY' | 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: readSetting(process.env, SETTINGS.awsRegion),
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000) : undefined,
      Keys: toLambdaImage(d.Keys as Record<string, unknown>) as never,
      NewImage: toLambdaImage(d.NewImage as Record<string, unknown>) as never,
      OldImage: toLambdaImage(d.OldImage as Record<string, unknown>) as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as 'NEW_AND_OLD_IMAGES',
    },
  };
}

export class StreamPoller {
  private readonly ddb = new DynamoDBClient({});
  private readonly streams = new DynamoDBStreamsClient({});
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Records delivered, per consumer (for assertions about what was exercised). */
  readonly delivered = new Map<string, number>();
  dropped = 0;
  duplicated = 0;
  parallelized = 0;
  /** GetRecords calls made and stream records read (what a stream consumer is billed for outside Lambda). */
  getRecordsCalls = 0;
  recordsRead = 0;

  constructor(
    private readonly tableName: string,
    private readonly consumers: Consumer[],
    private readonly chaos: Chaos = {},
    private readonly random: () => number = Math.random,
    /** Called after each handler invocation. */
    private readonly onInvoke?: (inv: Invocation) => void,
    /** Pause when a read finds nothing (Lambda polls each shard about four times a second). @default 100 */
    private readonly idleMs = 100,
    private readonly logger: Logger = defaultLogger(),
  ) {}

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

  private async run(arn: string): Promise<void> {
    const iterators = new Map<string, string | undefined>();
    /** The sequence number of the last record read per shard. */
    const lastSeen = new Map<string, string>();
    /** Records returned by a failed batch, to deliver again before reading on (per consumer). */
    const pending = new Map<string, DynamoDBStreamEvent['Records']>();
    let described = 0;
    while (!this.stopped) {
      try {
        // New shards appear rarely (splits): look for them every few seconds, as Lambda's poller does.
        if (Date.now() - described > 3_000) {
          described = Date.now();
          const desc = await this.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
          for (const shard of desc.StreamDescription?.Shards ?? []) {
            if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
            const it = await this.streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
            iterators.set(shard.ShardId, it.ShardIterator);
          }
        }
        let got = 0;
        for (const [shard, iterator] of iterators) {
          if (!iterator || this.stopped) continue;
          const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
          iterators.set(shard, out.NextShardIterator);
          const records = (out.Records ?? []).map((r) => toLambdaRecord(r, arn));
          const lastSeq = records[records.length - 1]?.dynamodb?.SequenceNumber;
          if (lastSeq) lastSeen.set(shard, lastSeq);
          else if (out.NextShardIterator) {
            // moto restores a copy of the whole table (its stream shard included) when a transaction is
            // cancelled, so an open iterator keeps reading the old shard object and never sees another
            // record. A fresh iterator after the last record read follows the current one (on DynamoDB
            // this is merely redundant).
            const seq = lastSeen.get(shard);
            const it = await this.streams.send(
              new GetShardIteratorCommand({
                StreamArn: arn,
                ShardId: shard,
                ...(seq ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seq } : { ShardIteratorType: 'TRIM_HORIZON' }),
              }),
            );
            iterators.set(shard, it.ShardIterator);
          }
          this.getRecordsCalls++;
          this.recordsRead += records.length;
          got += records.length;
          for (const c of this.consumers) {
            const batch = [...(pending.get(c.name) ?? []), ...(c.filter ? records.filter(c.filter) : records)];
            pending.delete(c.name);
            if (batch.length === 0) continue;
            const retry = await this.deliver(c, batch);
            if (retry.length > 0) pending.set(c.name, retry);
          }
        }
        if (got === 0) await new Promise((resolve) => setTimeout(resolve, this.idleMs));
      } catch (err) {
        if (!this.stopped) this.logger.error(`stream poller: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Delivers one batch; returns the records to deliver again (from the first reported failure on). */
  private async deliver(c: Consumer, batch: DynamoDBStreamEvent['Records']): Promise<DynamoDBStreamEvent['Records']> {
    if (this.chaos.drop && this.random() < this.chaos.drop) {
      this.dropped++;
      return [];
    }
    const records = [...batch];
    if (this.chaos.reorder) records.sort(() => this.random() - 0.5);
    const times = this.chaos.duplicate && this.random() < this.chaos.duplicate ? 2 : 1;
    if (times === 2) this.duplicated++;
    let failedFrom: string | undefined;
    for (let t = 0; t < times; t++) {
      const together = this.chaos.parallel !== undefined && this.random() < this.chaos.parallel;
      if (together) this.parallelized++;
      const targets = together ? c.instances : [c.instances[Math.floor(this.random() * c.instances.length)]!];
      const results = await Promise.all(
        targets.map(async (h) => {
          const t0 = performance.now();
          try {
            return await h({ Records: records });
          } finally {
            this.onInvoke?.({ consumer: c.name, records: records.length, ms: performance.now() - t0 });
          }
        }),
      );
      this.delivered.set(c.name, (this.delivered.get(c.name) ?? 0) + records.length * targets.length);
      for (const r of results) {
        const f = (r as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)?.batchItemFailures?.[0]?.itemIdentifier;
        if (f && (!failedFrom || f < failedFrom)) failedFrom = f;
      }
    }
    if (!failedFrom) return [];
    const i = batch.findIndex((r) => r.dynamodb?.SequenceNumber === failedFrom);
    return i < 0 ? [] : batch.slice(i);
  }
}
