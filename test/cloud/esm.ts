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
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { passesFilters, type FilterPattern } from '#lib/cloud/stream-filters';
import { toLambdaRecord } from '#lib/sim/stream-poller';
import { resourceOfLogPk } from '#lib/store/dynamodb-table';
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

function resourceOf(record: LambdaRecord): string | undefined {
  return resourceOfLogPk((record.dynamodb?.NewImage as { pk?: { S?: string } } | undefined)?.pk?.S);
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
      new GetShardIteratorCommand(
        after
          ? { StreamArn: arn, ShardId: shard, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { StreamArn: arn, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' },
      ),
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
            if (s.ShardId && !shards.has(s.ShardId))
              shards.set(s.ShardId, { iterator: await this.iterator(arn, s.ShardId, undefined), last: undefined, idleSince: Date.now() });
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
