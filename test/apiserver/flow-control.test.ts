/**
 * Flow control as one API server instance keeps it (pure logic, with a
 * clock moved by hand), and the gate in front of the server: 401 for
 * credentials that do not authenticate, 429 with Retry-After and
 * Kubernetes' Status for a caller over its share.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FlowControl, priorityLevelOf } from '#lib/apiserver/flow-control';
import { FlowGate } from '#lib/apiserver/flow-gate';
import { ApiMetrics } from '#lib/apiserver/metrics';
import { createApiHttpServer } from '#lib/apiserver/http';
import { HttpTransport } from '#lib/client/transport';
import type { ApiRequest, ApiResponse, UserInfo } from '#lib/api/request';
import { ManualClock } from '#lib/util/clock';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { newKindRegistry } from '#lib/kinds/index';

const user = (name: string, groups = ['kumo:viewers', 'system:authenticated']): UserInfo => ({ name, groups });
const ADMIN = user('kumo:token:admin', ['system:masters', 'system:authenticated']);
const NODE = user('system:node:n1', ['system:nodes', 'system:authenticated']);

/** Serves requests of `ms` each, back to back, until one is refused; returns how much work was served. */
function serveUntilRefused(flows: FlowControl, clock: ManualClock, who: UserInfo, ms: number): { served: number; retryAfterSeconds: number } {
  let served = 0;
  for (let i = 0; i < 100_000; i++) {
    const a = flows.admit(who);
    if (!a.admitted) return { served, retryAfterSeconds: a.retryAfterSeconds };
    clock.advance(ms);
    a.done();
    served += ms;
  }
  throw new Error('never refused');
}

/**
 * One instance for a minute: the callers ask in turn, back to back, each
 * request taking `workMs`; when all are refused the instance idles `idleMs`
 * (or as long as the refusal says, when `honourRetryAfter`). Returns the
 * share of the minute spent serving them.
 */
function shareServed(
  flows: FlowControl,
  clock: ManualClock,
  callers: UserInfo[],
  opts: { workMs: number; idleMs: number; honourRetryAfter?: boolean },
): number {
  let served = 0;
  const start = clock.now();
  while (clock.now() - start < 60_000) {
    let idle = opts.idleMs;
    let anyServed = false;
    for (const who of callers) {
      const a = flows.admit(who);
      if (!a.admitted) {
        if (opts.honourRetryAfter) idle = a.retryAfterSeconds * 1000;
        continue;
      }
      anyServed = true;
      clock.advance(opts.workMs);
      a.done();
      served += opts.workMs;
    }
    if (!anyServed) clock.advance(idle);
  }
  return served / 60_000;
}

describe('flow control', () => {
  it('puts masters, nodes and everyone else in the levels Kubernetes bootstraps', () => {
    expect(priorityLevelOf(ADMIN)).toBe('exempt');
    expect(priorityLevelOf(NODE)).toBe('system');
    expect(priorityLevelOf(user('system:bootstrap:bootstrap', ['system:bootstrappers']))).toBe('system');
    expect(priorityLevelOf(user('kumo:token:team', ['kumo:admins', 'system:authenticated']))).toBe('global-default');
  });

  it('never refuses system:masters', () => {
    const clock = new ManualClock();
    const flows = new FlowControl({ clock, burstMs: 100 });
    for (let i = 0; i < 1000; i++) {
      const a = flows.admit(ADMIN);
      expect(a.admitted).toBe(true);
      clock.advance(50);
      if (a.admitted) a.done();
    }
  });

  it("lets a user burst, then holds it to a quarter of the instance's time, and says when to come back", () => {
    const clock = new ManualClock();
    const flows = new FlowControl({ clock, burstMs: 1_000 });
    const flooder = user('kumo:token:flooder');
    // Back to back, 100 ms each: the burst plus the quarter earned meanwhile, within a request.
    const first = serveUntilRefused(flows, clock, flooder, 100);
    expect(first.served).toBeGreaterThanOrEqual(1_300);
    expect(first.served).toBeLessThanOrEqual(1_500);
    expect(first.retryAfterSeconds).toBe(1);
    // Over a long run it gets a quarter of the time: 4 s of wall time buy 1 s of work.
    const share = shareServed(flows, clock, [flooder], { workMs: 100, idleMs: 0, honourRetryAfter: true });
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThanOrEqual(0.25 + 1_500 / 60_000);
    // Another user, meanwhile, is served from its own burst.
    expect(flows.admit(user('kumo:token:other')).admitted).toBe(true);
  });

  it('tells a flow that overdrew with one expensive request to come back when it has earned it back', () => {
    const clock = new ManualClock();
    const flows = new FlowControl({ clock, burstMs: 1_000 });
    const heavy = user('kumo:token:heavy');
    const a = flows.admit(heavy);
    clock.advance(6_000);
    if (a.admitted) a.done();
    // 5 s overdrawn, less what 6 s earned at a quarter (1.5 s): 3.5 s to earn back at 0.25 → 14 s.
    const refused = flows.admit(heavy);
    expect(refused).toMatchObject({ admitted: false, retryAfterSeconds: 14 });
    clock.advance(14_000);
    expect(flows.admit(heavy).admitted).toBe(true);
  });

  it('shares half the time among the users active here, so they never take the nodes\u2019 half', () => {
    const clock = new ManualClock();
    const flows = new FlowControl({ clock, burstMs: 0 });
    const users = [user('kumo:token:a'), user('kumo:token:b'), user('kumo:token:c'), user('kumo:token:d')];
    const share = shareServed(flows, clock, users, { workMs: 10, idleMs: 10 });
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThanOrEqual(0.51);
  });

  it('gives a node half of the instance', () => {
    const clock = new ManualClock();
    const flows = new FlowControl({ clock, burstMs: 0 });
    const share = shareServed(flows, clock, [NODE], { workMs: 10, idleMs: 10 });
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThanOrEqual(0.51);
  });
});

describe('the flow gate', () => {
  const TOKENS: Record<string, UserInfo> = { 'good-viewer': user('kumo:token:viewer'), 'good-admin': ADMIN };

  function gate(clock: ManualClock, workMs = 100, metrics?: ApiMetrics) {
    const seen: (UserInfo | undefined)[] = [];
    const inner = {
      async handle(req: ApiRequest): Promise<ApiResponse> {
        seen.push(req.user);
        clock.advance(workMs);
        return { status: 200, body: { kind: 'Ok' } };
      },
    };
    const authenticator = { authenticate: async (req: ApiRequest) => TOKENS[(req.headers.authorization ?? '').replace(/^Bearer /, '')] };
    return { seen, gate: new FlowGate(inner, authenticator, new FlowControl({ clock, burstMs: 300 }), metrics && { metrics, kinds: newKindRegistry() }) };
  }

  const req = (path: string, token?: string): ApiRequest => ({
    method: 'GET',
    path,
    query: new URLSearchParams(),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

  it('refuses credentials that do not authenticate with a 401 Status on every path, and passes requests without any', async () => {
    const { gate: g, seen } = gate(new ManualClock());
    for (const path of ['/version', '/api/v1/pods']) {
      expect(await g.handle(req(path, 'junk'))).toMatchObject({ status: 401, body: { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 } });
    }
    expect(seen).toEqual([]);
    expect((await g.handle(req('/version'))).status).toBe(200);
    expect(seen).toEqual([undefined]);
  });

  it('hands the server the authenticated user, and answers a flood with 429, Retry-After and the Status kube-apiserver words', async () => {
    const clock = new ManualClock();
    const { gate: g, seen } = gate(clock);
    const answers: ApiResponse[] = [];
    for (let i = 0; i < 10; i++) answers.push(await g.handle(req('/api/v1/pods', 'good-viewer')));
    expect(seen[0]).toEqual(TOKENS['good-viewer']);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toEqual({
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Too many requests, please try again later.',
        reason: 'TooManyRequests',
        details: { retryAfterSeconds: 1 },
        code: 429,
      },
    });
    // The administrator is exempt.
    for (let i = 0; i < 10; i++) expect((await g.handle(req('/api/v1/pods', 'good-admin'))).status).toBe(200);
  });

  it("counts its own refusals in the server's apiserver_request_total, as kube-apiserver counts its filters' answers", async () => {
    const metrics = new ApiMetrics();
    const clock = new ManualClock();
    const { gate: g } = gate(clock, 100, metrics);
    await g.handle(req('/api/v1/pods', 'junk'));
    let refused = 0;
    for (let i = 0; i < 10; i++) if ((await g.handle(req('/api/v1/pods', 'good-viewer'))).status === 429) refused++;
    expect(refused).toBeGreaterThan(0);
    const samples = parseExposition((await metrics.exposition()).text);
    const count = (code: string) => valueOf(samples, 'apiserver_request_total', { verb: 'LIST', resource: 'pods', code });
    expect(count('401')).toBe(1);
    expect(count('429')).toBe(refused);
  });
});

describe("kumo's own client", () => {
  it('waits as long as a 429 says and sends the request again, as client-go does; a 429 without Retry-After is the answer', async () => {
    const seen: string[] = [];
    const http = createApiHttpServer({
      async handle(req: ApiRequest): Promise<ApiResponse> {
        seen.push(`${req.method} ${req.path}`);
        const first = seen.filter((s) => s === seen.at(-1)).length === 1;
        if (req.path === '/busy' && first)
          return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: { kind: 'Status', code: 429 } };
        if (req.path === '/refused') return { status: 429, headers: { 'content-type': 'application/json' }, body: { kind: 'Status', code: 429 } };
        return { status: 200, body: { kind: 'Ok' } };
      },
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const transport = new HttpTransport({ server: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
    try {
      expect(await transport.request({ method: 'POST', path: '/busy', body: { a: 1 } })).toMatchObject({ status: 200, body: { kind: 'Ok' } });
      expect(seen).toEqual(['POST /busy', 'POST /busy']);
      expect((await transport.request({ method: 'GET', path: '/refused' })).status).toBe(429);
      expect(seen.filter((s) => s === 'GET /refused')).toHaveLength(1);
    } finally {
      transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
