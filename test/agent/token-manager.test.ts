import { describe, expect, it } from 'vitest';
import { ServiceAccountTokens, TokenFetchError, type TokenRequestSpec } from '#lib/agent/volumes/token-manager';
import { ManualClock } from '#lib/util/clock';

const key = { namespace: 'ns', serviceAccount: 'sa', audience: '', expirationSeconds: 3600, pod: { name: 'p', uid: 'u1' } };

function issuer(clock: ManualClock) {
  const calls: { namespace: string; serviceAccount: string; spec: TokenRequestSpec }[] = [];
  let fail: Error | undefined;
  const request = (namespace: string, serviceAccount: string, spec: TokenRequestSpec) => {
    calls.push({ namespace, serviceAccount, spec });
    if (fail) return Promise.reject(fail);
    return Promise.resolve({ token: `t${calls.length}`, expiresAt: clock.now() + spec.expirationSeconds * 1000, expirationSeconds: spec.expirationSeconds });
  };
  return { calls, request, failWith: (e: Error | undefined) => (fail = e) };
}

describe('ServiceAccountTokens', () => {
  it('asks once for a pod-bound token and keeps it until 80% of its lifetime', async () => {
    const clock = new ManualClock();
    const api = issuer(clock);
    const tokens = new ServiceAccountTokens(api.request, clock, () => 0);
    expect(await tokens.get(key)).toBe('t1');
    expect(api.calls).toEqual([
      {
        namespace: 'ns',
        serviceAccount: 'sa',
        spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u1' } },
      },
    ]);
    expect(tokens.nextRefresh('u1')).toBe(clock.now() + 2880_000);
    clock.advance(2879_000);
    expect(await tokens.get(key)).toBe('t1');
    clock.advance(1_000);
    expect(await tokens.get(key)).toBe('t2');
    expect(api.calls).toHaveLength(2);
  });

  it('names the audience it was given and keeps tokens apart per audience', async () => {
    const clock = new ManualClock();
    const api = issuer(clock);
    const tokens = new ServiceAccountTokens(api.request, clock, () => 0);
    await tokens.get(key);
    expect(await tokens.get({ ...key, audience: 'vault' })).toBe('t2');
    expect(api.calls[1]!.spec.audiences).toEqual(['vault']);
  });

  it('renews a long-lived token after 24 hours, less a jitter of up to 10 s', async () => {
    const clock = new ManualClock();
    const api = issuer(clock);
    const tokens = new ServiceAccountTokens(api.request, clock, () => 0.95);
    const start = clock.now();
    await tokens.get({ ...key, expirationSeconds: 7 * 24 * 3600 });
    expect(tokens.nextRefresh('u1')).toBe(start + 24 * 3600_000 - 9_000);
  });

  it('renews on the lifetime the server granted, not the one asked for', async () => {
    const clock = new ManualClock();
    // The server caps tokens at 1000 s.
    const tokens = new ServiceAccountTokens(
      () => Promise.resolve({ token: 't', expiresAt: clock.now() + 1000_000, expirationSeconds: 1000 }),
      clock,
      () => 0,
    );
    await tokens.get(key);
    expect(tokens.nextRefresh('u1')).toBe(clock.now() + 800_000);
  });

  it('reports a failed renewal with the still-valid token, and tries again later rather than on every sync', async () => {
    const clock = new ManualClock();
    const api = issuer(clock);
    const tokens = new ServiceAccountTokens(api.request, clock, () => 0, 10_000);
    await tokens.get(key);
    clock.advance(2880_000);
    api.failWith(new Error('serviceaccounts "sa" is forbidden'));
    const err = await tokens.get(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenFetchError);
    expect((err as TokenFetchError).message).toBe('failed to fetch token: serviceaccounts "sa" is forbidden');
    expect((err as TokenFetchError).stale).toBe('t1');
    expect(tokens.nextRefresh('u1')).toBe(clock.now() + 10_000);
    api.failWith(undefined);
    clock.advance(10_000);
    // The third request (the second was refused).
    expect(await tokens.get(key)).toBe('t3');
  });

  it('has nothing stale to offer once the token expired, and forgets a pod that is gone', async () => {
    const clock = new ManualClock();
    const api = issuer(clock);
    const tokens = new ServiceAccountTokens(api.request, clock, () => 0);
    await tokens.get(key);
    clock.advance(3600_000);
    api.failWith(new Error('down'));
    expect(((await tokens.get(key).catch((e: unknown) => e)) as TokenFetchError).stale).toBeUndefined();
    tokens.forget('u1');
    expect(tokens.nextRefresh('u1')).toBeUndefined();
  });
});
