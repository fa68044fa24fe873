/**
 * The cost model: measured usage per operation (DynamoDB request units by
 * DynamoDB's sizing rules, stream reads, Lambda invocations and their
 * duration) priced with on-demand rates into dollars per month for a few
 * cluster shapes. Prices and the deployment's function sizes are parameters
 * (the defaults: us-east-1 on-demand list prices, and the CDK stack's memory
 * settings).
 */
import type { Usage } from './meter.js';

export interface Prices {
  /** $ per million write request units */
  wru: number;
  /** $ per million read request units */
  rru: number;
  /** $ per million Lambda requests */
  lambdaRequests: number;
  /** $ per GB-second of Lambda duration */
  lambdaGbSecond: number;
  /** $ per 100,000 DynamoDB Streams read request units (free when Lambda triggers read the stream) */
  streamReads: number;
  /** $ per GB-month of DynamoDB storage */
  storageGbMonth: number;
  /** EKS control plane, $ per cluster-hour (the peer) */
  eksHour: number;
}

export const PRICES: Prices = {
  wru: 0.625,
  rru: 0.125,
  lambdaRequests: 0.2,
  lambdaGbSecond: 0.0000166667,
  streamReads: 0.02,
  storageGbMonth: 0.25,
  eksHour: 0.1,
};

/** Memory (MB) of each function, as the CDK stack deploys them (cdk/constructs/api-endpoint.ts, stream-consumer.ts). */
export const FUNCTION_MEMORY_MB: Record<string, number> = { api: 1024, controllers: 1024, scheduler: 1024 };

export const HOURS_PER_MONTH = 730;

/** What one operation (or one hour of something) costs, in units. */
export interface OpCost {
  wru: number;
  rru: number;
  streamRecords: number;
  /** Lambda invocations and summed duration (ms) per function. */
  invocations: Record<string, number>;
  durationMs: Record<string, number>;
}

export function zeroCost(): OpCost {
  return { wru: 0, rru: 0, streamRecords: 0, invocations: {}, durationMs: {} };
}

export function scaleCost(c: OpCost, k: number): OpCost {
  const scaled = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([f, v]) => [f, v * k]));
  return { wru: c.wru * k, rru: c.rru * k, streamRecords: c.streamRecords * k, invocations: scaled(c.invocations), durationMs: scaled(c.durationMs) };
}

export function addCost(...cs: OpCost[]): OpCost {
  const out = zeroCost();
  for (const c of cs) {
    out.wru += c.wru;
    out.rru += c.rru;
    out.streamRecords += c.streamRecords;
    for (const [f, v] of Object.entries(c.invocations)) out.invocations[f] = (out.invocations[f] ?? 0) + v;
    for (const [f, v] of Object.entries(c.durationMs)) out.durationMs[f] = (out.durationMs[f] ?? 0) + v;
  }
  return out;
}

/**
 * A difference of measurements (an operation net of the background measured beside it) floored at zero per component:
 * the background is a rate, and a short window may hold fewer of its periodic requests than the rate says.
 */
export function floorAtZero(c: OpCost): OpCost {
  const pos = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([f, v]) => [f, Math.max(0, v)]));
  return {
    wru: Math.max(0, c.wru),
    rru: Math.max(0, c.rru),
    streamRecords: Math.max(0, c.streamRecords),
    invocations: pos(c.invocations),
    durationMs: pos(c.durationMs),
  };
}

/** An OpCost from a meter difference and the functions' invocation counters over the same window. */
export function opCost(usage: Usage, functions: Record<string, { invocations: number; ms: number }>): OpCost {
  const invocations: Record<string, number> = {};
  const durationMs: Record<string, number> = {};
  for (const [name, f] of Object.entries(functions)) {
    const fn = name.split(' ')[0]!; // "controllers (resync)" bills as controllers
    invocations[fn] = (invocations[fn] ?? 0) + f.invocations;
    durationMs[fn] = (durationMs[fn] ?? 0) + f.ms;
  }
  return { wru: usage.wru, rru: usage.rru, streamRecords: usage.streamRecords, invocations, durationMs };
}

export interface Dollars {
  dynamoWrites: number;
  dynamoReads: number;
  lambdaRequests: number;
  lambdaDuration: number;
  streams: number;
  storage: number;
  total: number;
}

export function price(c: OpCost, opts: { prices?: Prices; memoryMb?: Record<string, number>; storageGb?: number; lambdaReadsStream?: boolean } = {}): Dollars {
  const p = opts.prices ?? PRICES;
  const mem = opts.memoryMb ?? FUNCTION_MEMORY_MB;
  const dynamoWrites = (c.wru / 1e6) * p.wru;
  const dynamoReads = (c.rru / 1e6) * p.rru;
  const requests = Object.values(c.invocations).reduce((a, b) => a + b, 0);
  const lambdaRequests = (requests / 1e6) * p.lambdaRequests;
  let gbs = 0;
  for (const [f, ms] of Object.entries(c.durationMs)) gbs += (ms / 1000) * ((mem[f] ?? 1024) / 1024);
  const lambdaDuration = gbs * p.lambdaGbSecond;
  // Lambda's event source mappings read the stream for free; another reader pays per GetRecords.
  const streams = opts.lambdaReadsStream === false ? (c.streamRecords / 100_000) * p.streamReads : 0;
  const storage = (opts.storageGb ?? 0) * p.storageGbMonth;
  const total = dynamoWrites + dynamoReads + lambdaRequests + lambdaDuration + streams + storage;
  return { dynamoWrites, dynamoReads, lambdaRequests, lambdaDuration, streams, storage, total };
}
