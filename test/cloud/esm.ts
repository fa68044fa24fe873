/**
 * Lambda's DynamoDB event source mappings as the cloud tests wire them: the
 * stack's filter patterns and Lambda's (event, context) handlers, over the
 * one stream simulator (lib/sim/stream-poller.ts), which reads every shard
 * once for all mappings, delivers real-shaped batches, redelivers from the
 * first reported batchItemFailure and, asked to, delivers a batch twice or
 * to two instances at once, as at-least-once delivery can. What each
 * mapping's filters kept and dropped is counted per resource.
 */
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { CONTROLLER_FILTERS, passesFilters, type FilterPattern } from '#lib/cloud/stream-filters';
import { type Chaos, type Consumer, StreamPoller } from '#lib/sim/stream-poller';
import { resourceOfLogPk } from '#lib/store/dynamodb-table';
import { invocationContext } from '../functions/events.js';
import { type EventHandler, loadBundle } from './harness.js';

type LambdaRecord = DynamoDBStreamEvent['Records'][number];
export type StreamFunction = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

export interface MappingStats {
  invocations: number;
  /** Change-log records the filters passed to the function, per resource. */
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

/** How delivery misbehaves: a batch delivered twice, or to every instance at once. */
export type Misbehaviour = Pick<Chaos, 'duplicate' | 'parallel'>;

function resourceOf(record: LambdaRecord): string | undefined {
  return resourceOfLogPk((record.dynamodb?.NewImage as { pk?: { S?: string } } | undefined)?.pk?.S);
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export class EventSourceMappings {
  readonly stats = new Map<string, MappingStats>();
  private readonly poller: StreamPoller;

  constructor(tableName: string, mappings: Mapping[], misbehaviour: Misbehaviour = {}, random: () => number = Math.random) {
    for (const m of mappings) this.stats.set(m.name, { invocations: 0, records: new Map(), filtered: new Map() });
    this.poller = new StreamPoller(
      tableName,
      mappings.map((m) => this.consumer(m)),
      misbehaviour,
      random,
      (inv) => this.stats.get(inv.consumer)!.invocations++,
    );
  }

  /** A mapping as the poller's consumer: its filters counted per resource, its functions invoked with a Lambda context. */
  private consumer(m: Mapping): Consumer {
    const stats = this.stats.get(m.name)!;
    return {
      name: m.name,
      instances: m.instances.map((fn) => (event: DynamoDBStreamEvent) => fn(event, invocationContext(60_000))),
      filter: (r) => {
        const pass = passesFilters(m.filters, r);
        const resource = resourceOf(r);
        if (resource) bump(pass ? stats.records : stats.filtered, resource);
        return pass;
      },
    };
  }

  start(): Promise<void> {
    return this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

/** The deployed controllers bundle behind the stack's controller filters, fed by the table's stream, started. */
export async function startControllerMapping(tableName: string, bundle: string): Promise<EventSourceMappings> {
  const controllers = await loadBundle<{ handler: EventHandler }>(bundle);
  const mappings = new EventSourceMappings(tableName, [
    { name: 'controllers', filters: CONTROLLER_FILTERS, instances: [controllers.handler as StreamFunction] },
  ]);
  await mappings.start();
  return mappings;
}
