/**
 * A flood at the cloud front door, from the deployed bundles on the
 * emulator: the API bundle in Lambda's concurrency model (one request per
 * execution environment, started on demand up to a cap) in a process of its
 * own, as the API function runs apart from the others; the controller and
 * scheduler bundles fed by the stream and the resync; two agents from the
 * agent image's entrypoint. While made-up tokens and one identity with
 * a valid token hammer the API, a user scales a Deployment and it reaches
 * its replicas, the nodes' heartbeats keep landing, the junk gets 401
 * without a single read of a token record (every DynamoDB request is seen
 * at the emulator's door), and the flooding identity gets 429s with
 * Retry-After while the other user is never refused.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deployment } from '../apiserver/harness.js';
import { issuedToken, mintToken, TOKEN_NAMESPACE, type Grant } from '#lib/auth/tokens';
import { CONTROLLER_FILTERS, SCHEDULER_FILTERS } from '#lib/cloud/stream-filters';
import { waitFor } from '../helpers/wait.js';
import { ChaosProxy } from './chaos-proxy.js';
import { EventSourceMappings, type StreamFunction } from './esm.js';
import {
  type AgentProcess,
  type ApiProcess,
  type CloudAccount,
  deployToEmulator,
  type EventHandler,
  loadBundle,
  resyncSchedule,
  scratchDir,
  startAgent,
  startApiProcess,
  type Wire,
} from './harness.js';
import { sleep } from '#lib/util/sleep';

const bundles = inject('cloudBundles');
const NODE_NAMES = ['node-a', 'node-b'];
const NS = 'team';
/** The API function's reserved concurrency here (the stack's default is 50): not reached, so every request meets kumo. */
const API_CAP = 32;
/** Environments started before the flood (their cold starts are slow on a loaded machine, and would hold up the agents). */
const WARM = 8;
/** Prefix of every made-up token id: no DynamoDB request may ever name a record with it. */
const JUNK = 'junkflood';

// Flow control as the stack deploys it: a burst of 5 s of work, then a quarter of each environment for a user.
const account: CloudAccount | undefined = await deployToEmulator();

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Wire;
}

/** Lambda's own refusal at the function's concurrency cap: the request never reached kumo. */
const atCap = (r: Answer) => r.status === 429 && r.body?.Message === 'Rate Exceeded.';

describe.runIf(account)('a flood at the front door while the control loops run', () => {
  const a = account!;
  const scratch = scratchDir('kumo-cloud-door-');
  const proxy = new ChaosProxy(a.emulator.endpoint);
  /** How many DynamoDB requests named each token record (its key is in the request). */
  const tokenReads = new Map<string, number>();
  let api: ApiProcess;
  let mappings: EventSourceMappings;
  let resync: ReturnType<typeof resyncSchedule>;
  const agents: AgentProcess[] = [];

  async function call(token: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Wire = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed };
  }

  async function ok(token: string, method: string, path: string, body?: unknown, contentType?: string): Promise<Wire> {
    const r = await call(token, method, path, body, contentType);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** A token as `kumo token create` makes it, through the admin token. */
  async function token(grant: Grant): Promise<{ id: string; token: string }> {
    const minted = mintToken(grant);
    const stored = await ok(a.adminToken, 'POST', `/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets`, minted.secret);
    return { id: minted.id, token: issuedToken(minted, stored) };
  }

  beforeAll(async () => {
    const url = await proxy.start();
    proxy.observe = (_op, body) => {
      for (const m of body.toString('utf8').matchAll(/kumo-token-[a-z0-9.-]+/g)) tokenReads.set(m[0], (tokenReads.get(m[0]) ?? 0) + 1);
    };
    // The functions' SDK clients are built on their cold start: from now on they talk through the proxy.
    process.env.AWS_ENDPOINT_URL = url;
    api = await startApiProcess(bundles.api, API_CAP);
    // Concurrent requests start (and keep) that many environments, as Lambda would for a burst.
    await Promise.all(Array.from({ length: WARM }, () => fetch(`${api.url}/version`).then((r) => r.text())));
    const controllers = await loadBundle<{ handler: EventHandler }>(bundles.controllers);
    const scheduler = await loadBundle<{ handler: EventHandler }>(bundles.scheduler);
    mappings = new EventSourceMappings(a.tableName, [
      { name: 'controllers', filters: CONTROLLER_FILTERS, instances: [controllers.handler as StreamFunction] },
      { name: 'scheduler', filters: SCHEDULER_FILTERS, instances: [scheduler.handler as StreamFunction] },
    ]);
    await mappings.start();
    resync = resyncSchedule([controllers.handler, scheduler.handler], 10_000);
    for (const nodeName of NODE_NAMES) {
      agents.push(
        startAgent(bundles.agentEntrypoint, {
          server: api.url,
          nodeName,
          bootstrapSecretString: a.bootstrapSecretString,
          dataDir: join(scratch.path, nodeName),
          // The stack's economy cadence, quicker: the agents poll (no watch holds an environment) and renew every 3 s.
          env: { KUMO_AGENT_POLL_INTERVAL: '2s', KUMO_LEASE_RENEW_INTERVAL: '3s', KUMO_LEASE_DURATION: '30s' },
        }),
      );
    }
    await ok(a.adminToken, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });

  afterAll(async () => {
    await Promise.all(agents.map((p) => p.stop()));
    await resync?.stop();
    await mappings?.stop();
    await api?.stop();
    await proxy.stop();
    scratch.remove();
    await a.dispose();
  });

  it('scales a Deployment and keeps the heartbeats landing while junk gets 401 without store reads and the flooder gets 429s', async () => {
    const flooder = await token({ role: 'view' });
    const user = await token({ role: 'admin', namespace: NS });
    const userAnswers: Answer[] = [];
    /** The user's requests, retried as client-go retries a 429 (after Retry-After, else a second). */
    const asUser = async (method: string, path: string, body?: unknown, contentType?: string) => {
      for (;;) {
        const r = await call(user.token, method, path, body, contentType);
        userAnswers.push(r);
        if (r.status !== 429) return r;
        await sleep(Number(r.retryAfter ?? 1) * 1000);
      }
    };
    const t0 = Date.now();
    const step = (what: string) => console.log(`front door: ${what} at ${Date.now() - t0} ms`);
    await waitFor(
      async () => {
        const nodes = (await ok(a.adminToken, 'GET', '/api/v1/nodes')).items as Wire[];
        return nodes.filter((n) => n.status?.conditions?.some((c: Wire) => c.type === 'Ready' && c.status === 'True')).length === NODE_NAMES.length;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'both agents registered as Ready nodes' },
    );
    step('nodes ready');
    expect((await asUser('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, deployment('web', 1))).status).toBe(201);
    const runningPods = async () => {
      const r = await asUser('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`);
      return r.status === 200 ? (r.body.items as Wire[]).filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running').length : -1;
    };
    const renewTimes = async () => {
      const leases = (await ok(a.adminToken, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).items as Wire[];
      return new Map(NODE_NAMES.map((n) => [n, leases.find((l) => l.metadata.name === n)?.spec?.renewTime as string | undefined]));
    };
    // A node's Lease comes shortly after it registers.
    const before = await waitFor(
      async () => {
        const leases = await renewTimes();
        return NODE_NAMES.every((n) => leases.get(n) !== undefined) ? leases : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "both nodes' leases" },
    );
    const readsBefore = new Map(tokenReads);

    // The flood: made-up tokens of every kind, and one identity with a valid token asking as fast as it is answered.
    let flooding = true;
    const junk: { token: string; answer: Answer }[] = [];
    const flood: Answer[] = [];
    const junkLoop = async () => {
      for (let i = 0; flooding; i++) {
        const id = `${JUNK}-${i}`;
        const secret = randomBytes(32).toString('base64url');
        const forms = [`${id}.${secret}.${randomBytes(16).toString('base64url')}`, `${id}.${secret}`, `not a token ${id}`, `${id}`];
        const t = forms[i % forms.length]!;
        junk.push({ token: t, answer: await call(t, 'GET', i % 2 ? '/api/v1/pods' : '/version') });
        await sleep(20);
      }
    };
    const floodLoop = async () => {
      while (flooding) {
        const r = await call(flooder.token, 'GET', `/api/v1/namespaces/${NS}`);
        flood.push(r);
        await sleep(r.status === 429 ? 50 : 0);
      }
    };
    const loops = [junkLoop(), floodLoop(), floodLoop(), floodLoop(), floodLoop()];
    try {
      // Meanwhile the user scales the Deployment, and the control loops and the agents make it so.
      await waitFor(async () => flood.some((r) => r.status === 429), { timeoutMs: 60_000, intervalMs: 100, what: 'the flood to reach its share' });
      step('flood reached its share');
      expect(
        (await asUser('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json')).status,
      ).toBe(200);
      await waitFor(async () => (await runningPods()) === 3, { timeoutMs: 60_000, intervalMs: 2_000, what: '3 web pods Running during the flood' });
      step('3 pods running');
      await waitFor(
        async () => {
          const now = await renewTimes();
          return NODE_NAMES.every((n) => now.get(n) !== before.get(n));
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'a lease renewal of every node during the flood' },
      );
    } finally {
      flooding = false;
      await Promise.all(loops);
    }

    console.log(
      `front door: ${junk.length} junk requests, flooder ${flood.length} (${flood.filter((r) => r.status === 429 && !atCap(r)).length} refused by flow control), user ${userAnswers.length} (${userAnswers.filter((r) => r.status >= 300 && !atCap(r)).length} refused or failed); ` +
        `${[...junk.map((j) => j.answer), ...flood, ...userAnswers].filter(atCap).length} throttled at the cap; token record reads ${JSON.stringify(Object.fromEntries(tokenReads))}`,
    );

    // Junk: 401 Status every time, on public paths too, and no DynamoDB request ever named one of its records.
    const judged = junk.filter((j) => !atCap(j.answer));
    expect(judged.length).toBeGreaterThan(100);
    for (const { token: t, answer } of judged) {
      expect(answer.status, t).toBe(401);
      expect(answer.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    }
    expect([...tokenReads.keys()].filter((k) => k.includes(JUNK))).toEqual([]);
    // Each refusal is logged for the operator (the reason never reaches the client), one JSON record per line.
    const refusalsLogged = api
      .output()
      .split('\n')
      .flatMap((l) => {
        try {
          return [(JSON.parse(l) as { message?: string }).message ?? ''];
        } catch {
          return []; // not a record (or the last one, still being written)
        }
      })
      .filter((l) => l.startsWith('kumo auth: refused') && (l.includes(JUNK) || l.endsWith('malformed token')));
    expect(refusalsLogged.length).toBeGreaterThanOrEqual(judged.filter((j) => !j.token.includes(' ')).length);
    // The window sees token reads: the flooder's record was read (once per environment that served it, then cached).
    expect(tokenReads.get(`kumo-token-${flooder.id}`) ?? 0).toBeGreaterThan(readsBefore.get(`kumo-token-${flooder.id}`) ?? 0);

    // The flooder: served, then refused with 429, Retry-After and Kubernetes' Status.
    const refused = flood.filter((r) => r.status === 429 && !atCap(r));
    expect(flood.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(r.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'TooManyRequests',
        message: 'Too many requests, please try again later.',
        code: 429,
        details: { retryAfterSeconds: Number(r.retryAfter) },
      });
    }
    expect(flood.every((r) => r.status === 200 || r.status === 429)).toBe(true);

    // The other user was never refused by flow control (nor failed).
    expect(userAnswers.filter((r) => r.status >= 300 && !atCap(r))).toEqual([]);
  }, 240_000);
});
