/**
 * The event filters of the two DynamoDB Stream event source mappings (Lambda
 * filter-rule syntax), shared by the CDK stack and the tests that replay the
 * stream, so what is tested is what is deployed.
 *
 * Only change-log items (pk `l#<store key>`, attribute `type`) mean anything
 * to the control loops: object, counter and directory items, GAP entries and
 * compaction's REMOVE records never invoke a function. Beyond that:
 *
 * - controllers: every resource's changes except events and leases, which
 *   change all the time (every controller action records an event, every
 *   node renews its lease every 10 s) and matter to no controller except when
 *   deleted (the namespace controller waits for a terminating namespace to
 *   empty). Node lifecycle notices missing lease renewals through its
 *   requeue and the scheduled resync, not through the stream.
 * - scheduler: pods and nodes.
 *
 * A filtered-out record counts as processed: it costs no invocation.
 * test/cdk/stream-filters.test.ts checks these against the reconcilers'
 * own watches, so a new watch cannot silently be filtered away.
 */
import { EVENTS, LEASES, NODES, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { logPk } from '../store/dynamodb-table.js';

/** A Lambda event filter pattern (the subset of the rule syntax used here). */
export type FilterPattern = { [field: string]: FilterPattern | FilterValue[] };
export type FilterValue = string | { 'anything-but': string[] };

const LOG_TYPES = ['ADDED', 'MODIFIED', 'DELETED'];

/** Resources (store keys) whose every change a controller may act on: all but these. */
export const CONTROLLER_QUIET_RESOURCES: readonly string[] = [EVENTS, LEASES].map(storeResource);

export const SCHEDULER_RESOURCES: readonly string[] = [PODS, NODES].map(storeResource);

export const CONTROLLER_FILTERS: readonly FilterPattern[] = [
  {
    eventName: ['INSERT'],
    dynamodb: { NewImage: { type: { S: LOG_TYPES }, pk: { S: [{ 'anything-but': CONTROLLER_QUIET_RESOURCES.map(logPk) }] } } },
  },
  {
    eventName: ['INSERT'],
    dynamodb: { NewImage: { type: { S: ['DELETED'] }, pk: { S: CONTROLLER_QUIET_RESOURCES.map(logPk) } } },
  },
];

export const SCHEDULER_FILTERS: readonly FilterPattern[] = [
  {
    eventName: ['INSERT'],
    dynamodb: { NewImage: { type: { S: LOG_TYPES }, pk: { S: SCHEDULER_RESOURCES.map(logPk) } } },
  },
];

function valueMatches(rule: FilterValue, value: unknown): boolean {
  if (typeof rule === 'string') return value === rule;
  return typeof value === 'string' && !rule['anything-but'].includes(value);
}

/**
 * Whether a record passes one pattern, by Lambda's rules for this subset:
 * every field of the pattern must be present and match; a list matches when
 * any of its values does.
 */
export function patternMatches(pattern: FilterPattern, record: unknown): boolean {
  if (record === null || typeof record !== 'object') return false;
  for (const [field, rule] of Object.entries(pattern)) {
    const value = (record as Record<string, unknown>)[field];
    if (Array.isArray(rule)) {
      if (!rule.some((r) => valueMatches(r, value))) return false;
    } else if (!patternMatches(rule, value)) return false;
  }
  return true;
}

/** Whether a record passes a mapping's filters (any one of them). */
export function passesFilters(filters: readonly FilterPattern[], record: unknown): boolean {
  return filters.some((p) => patternMatches(p, record));
}
