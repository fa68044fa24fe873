/**
 * How much of the account's Lambda concurrency each function may use
 * (Lambda reserved concurrency: held for the function alone, and its
 * ceiling).
 *
 * - The controllers and the scheduler get a reservation, so no flood at the
 *   API (or any other function in the account) can leave them without an
 *   execution environment. They never go through the API function: they
 *   call the API server in process, on the store.
 * - The API function gets a cap: a flood can use at most that many
 *   environments, and Lambda serves at most 10 requests a second per
 *   environment, so the bill of a flood has a ceiling (docs/cloud.md).
 *
 * Sized for the default account quota (1,000 concurrent executions, of
 * which Lambda keeps 100 unreserved): the defaults reserve 65, leaving the
 * rest of the account alone. An account whose quota leaves less than the
 * reservations plus 100 unreserved (new accounts start lower) cannot deploy
 * them: `-c reservedConcurrency=false` deploys without any.
 */
export interface ConcurrencySettings {
  /** Most API function environments at once (its reserved concurrency). */
  api?: number;
  controllers?: number;
  scheduler?: number;
}

export const CONCURRENCY_DEFAULTS = { api: 50, controllers: 10, scheduler: 5 } as const;

/**
 * Watches an agent holds open with cadence=kubernetes (its pods, the
 * Services, and its node proxy's Services and EndpointSlices): each is an
 * API invocation for as long as it lasts, so the API's cap grows with them.
 */
export const WATCHES_PER_AGENT = 4;

/** What an account with the default quota may reserve in all: 1,000 less the 100 Lambda keeps unreserved. */
export const DEFAULT_RESERVABLE = 900;

export class ConcurrencyConfigError extends Error {
  override name = 'ConcurrencyConfigError';
}

export interface ConcurrencyInput extends ConcurrencySettings {
  /** false: reserve nothing and cap nothing (accounts too small to reserve). @default true */
  reserved?: boolean;
  /** Agents hold watches (cadence=kubernetes). */
  watchingAgents?: boolean;
  /** Most nodes the stack's pool may have, when it has one. */
  maxNodes?: number;
}

/**
 * The reserved concurrency of each function: the given numbers, else the
 * defaults (the API's plus four watches per node with watching agents).
 * Refuses 0 or less, which would stop a function rather than reserve for it.
 */
export function concurrencySettings(input: ConcurrencyInput): ConcurrencySettings {
  if (input.reserved === false) return {};
  const watches = input.watchingAgents && input.maxNodes ? WATCHES_PER_AGENT * input.maxNodes : 0;
  const out = {
    api: input.api ?? CONCURRENCY_DEFAULTS.api + watches,
    controllers: input.controllers ?? CONCURRENCY_DEFAULTS.controllers,
    scheduler: input.scheduler ?? CONCURRENCY_DEFAULTS.scheduler,
  };
  for (const [name, n] of Object.entries(out)) {
    if (!Number.isInteger(n) || n < 1) {
      throw new ConcurrencyConfigError(
        `${name} concurrency must be a whole number of at least 1, got ${n} (0 would stop the function; reservedConcurrency=false reserves nothing)`,
      );
    }
  }
  return out;
}

/** The total reserved, and whether it fits an account with the default quota. */
export function reservedTotal(settings: ConcurrencySettings): { total: number; fitsDefaultQuota: boolean } {
  const total = (settings.api ?? 0) + (settings.controllers ?? 0) + (settings.scheduler ?? 0);
  return { total, fitsDefaultQuota: total <= DEFAULT_RESERVABLE };
}
