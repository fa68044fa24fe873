/**
 * The functions' share of the account's Lambda concurrency
 * (cdk/concurrency.ts): the controllers and the scheduler reserved, the API
 * capped, sized for the default quota, adjustable and removable. How the
 * stack applies them is asserted on its template in stack.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CONCURRENCY_DEFAULTS, ConcurrencyConfigError, concurrencySettings, DEFAULT_RESERVABLE, reservedTotal } from '../../cdk/concurrency.js';

describe('reserved concurrency', () => {
  it('defaults to a cap of 50 on the API and 10 and 5 reserved for the control loops, well within what the default quota may reserve', () => {
    expect(concurrencySettings({})).toEqual({ api: 50, controllers: 10, scheduler: 5 });
    expect(reservedTotal(CONCURRENCY_DEFAULTS)).toEqual({ total: 65, fitsDefaultQuota: true });
    expect(DEFAULT_RESERVABLE).toBe(1_000 - 100);
  });

  it('gives the API room for the watches agents hold with cadence=kubernetes', () => {
    expect(concurrencySettings({ watchingAgents: true, maxNodes: 10 }).api).toBe(50 + 4 * 10);
    expect(concurrencySettings({ watchingAgents: false, maxNodes: 10 }).api).toBe(50);
    expect(concurrencySettings({ watchingAgents: true, api: 30, maxNodes: 10 }).api).toBe(30);
  });

  it('refuses a reservation of 0, which would stop the function, with a message that says so', () => {
    expect(() => concurrencySettings({ controllers: 0 })).toThrow(ConcurrencyConfigError);
    expect(() => concurrencySettings({ api: 0 })).toThrow(
      'api concurrency must be a whole number of at least 1, got 0 (0 would stop the function; reservedConcurrency=false reserves nothing)',
    );
    expect(() => concurrencySettings({ scheduler: 2.5 })).toThrow(ConcurrencyConfigError);
  });

  it('reserves nothing for accounts too small to', () => {
    expect(concurrencySettings({ reserved: false, api: 10 })).toEqual({});
    expect(reservedTotal({ api: 900, controllers: 4, scheduler: 2 })).toEqual({ total: 906, fitsDefaultQuota: false });
  });
});
