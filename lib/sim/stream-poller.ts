/**
 * Plays Lambda's DynamoDB event source mappings against an emulator: reads
 * the table's stream with GetRecords and invokes handlers with real-shaped
 * DynamoDBStreamEvent batches (binary attributes base64, as Lambda sends
 * them), retrying from a reported batchItemFailure. Each consumer is a
 * mapping of its own, as in the stack: it takes one batch at a time, in
 * stream order, and never waits for another consumer (a slow controllers
 * batch does not hold up the scheduler). It can also misbehave the ways
 * delivery may: duplicate batches, reorder records within a batch, drop
 * batches (left to the resync to repair), and invoke two handler instances
 * with the same batch at once.
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
import { sleep } from '../util/sleep.js';

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

type LambdaRecord = DynamoDBStreamEvent['Records'][number];

/** One consumer's mapping: the records read for it and not yet delivered, in stream order. */
interface Lane {
  consumer: Consumer;
  queue: LambdaRecord[];
  /** Failed deliveries in a row of the batch at the head of the queue. */
  failures: number;
  /** Wakes the lane's worker when records arrive or the poller stops. */
  wake: (() => void) | undefined;
}

/** Records a mapping hands to one invocation at most (the stack's batchSize). */
const BATCH_SIZE = 100;
/** Failed deliveries of one batch before it is given up on (the stack's retryAttempts; its dead-letter queue). */
const RETRY_ATTEMPTS = 5;

export class StreamPoller {
  private readonly ddb = new DynamoDBClient({});
  private readonly streams = new DynamoDBStreamsClient({});
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly lanes: Lane[];
  /** Records delivered, per consumer (for assertions about what was exercised). */
  readonly delivered = new Map<string, number>();
  dropped = 0;
  duplicated = 0;
  parallelized = 0;
  /** Batches given up on after RETRY_ATTEMPTS failed deliveries. */
  givenUp = 0;
  /** GetRecords calls made and stream records read (what a stream consumer is billed for outside Lambda). */
  getRecordsCalls = 0;
  recordsRead = 0;

  constructor(
    private readonly tableName: string,
    consumers: Consumer[],
    private readonly chaos: Chaos = {},
    private readonly random: () => number = Math.random,
    /** Called after each handler invocation. */
    private readonly onInvoke?: (inv: Invocation) => void,
    /** Pause when a read finds nothing (Lambda polls each shard about four times a second). @default 100 */
    private readonly idleMs = 100,
    private readonly logger: Logger = defaultLogger(),
  ) {
    this.lanes = consumers.map((consumer) => ({ consumer, queue: [], failures: 0, wake: undefined }));
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  async start(): Promise<void> {
    const table = await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.tableName} has no stream`);
    this.loops = [this.read(arn), ...this.lanes.map((lane) => this.work(lane))];
  }

  /** Stops reading and delivering; a delivery under way finishes first. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const lane of this.lanes) lane.wake?.();
    await Promise.all(this.loops);
    this.ddb.destroy();
    this.streams.destroy();
  }

  /** Reads every shard and queues what each consumer's filter keeps on its lane. */
  private async read(arn: string): Promise<void> {
    const iterators = new Map<string, string | undefined>();
    /** The sequence number of the last record read per shard. */
    const lastSeen = new Map<string, string>();
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
          for (const lane of this.lanes) {
            const kept = lane.consumer.filter ? records.filter(lane.consumer.filter) : records;
            if (kept.length === 0) continue;
            lane.queue.push(...kept);
            lane.wake?.();
          }
        }
        if (got === 0) await sleep(this.idleMs, this.stopping.signal);
      } catch (err) {
        if (!this.stopped) this.logger.error(`stream poller: ${(err as Error).message}`);
        await sleep(200, this.stopping.signal);
      }
    }
  }

  /**
   * One consumer's mapping: delivers the oldest queued records, one batch at
   * a time; a failed batch is delivered again from its first failed record
   * (a handler that throws failed them all), and given up on after
   * RETRY_ATTEMPTS failures in a row, as the stack's mapping sends it to its
   * dead-letter queue.
   */
  private async work(lane: Lane): Promise<void> {
    while (!this.stopped) {
      if (lane.queue.length === 0) {
        await new Promise<void>((resolve) => (lane.wake = resolve));
        lane.wake = undefined;
        continue;
      }
      const batch = lane.queue.slice(0, BATCH_SIZE);
      let retry: LambdaRecord[];
      try {
        retry = await this.deliver(lane.consumer, batch);
      } catch (err) {
        if (!this.stopped) this.logger.error(`stream poller: ${lane.consumer.name}: ${(err as Error).message}`);
        retry = batch;
      }
      // The batch leaves the queue; what is to be retried goes back to its head, ahead of newer records.
      lane.queue.splice(0, batch.length, ...retry);
      if (retry.length === 0) {
        lane.failures = 0;
        continue;
      }
      if (++lane.failures > RETRY_ATTEMPTS) {
        this.logger.error(`stream poller: ${lane.consumer.name}: gave up on ${retry.length} records after ${RETRY_ATTEMPTS} retries`);
        this.givenUp++;
        lane.queue.splice(0, retry.length);
        lane.failures = 0;
      }
      await sleep(this.idleMs, this.stopping.signal);
    }
  }

  /** Delivers one batch; returns the records to deliver again (from the first reported failure on). */
  private async deliver(c: Consumer, batch: LambdaRecord[]): Promise<LambdaRecord[]> {
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
