/**
 * Pod Security Admission through the API: namespace labels and cluster
 * defaults, enforce (403 and nothing stored), warn (Warning headers), audit
 * (the audit-violations annotation), workload templates, label validation,
 * a tightened namespace's warnings about running pods, and exemptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequest } from '#lib/api/request';
import { parsePodSecurityConfig } from '#lib/apiserver/podsecurity/config';
import { startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;
let strict: TestApi;

beforeAll(async () => {
  t = await startApi();
  // The cloud stack's defaults: enforce baseline, warn restricted, the admin token's user exempt.
  const podSecurity = parsePodSecurityConfig({
    defaults: { enforce: 'baseline', warn: 'restricted' },
    exemptions: { usernames: ['kumo:token:admin'], namespaces: ['trusted'], runtimeClasses: ['kata'] },
  });
  strict = await startApi({ admission: { podSecurity } });
  await strict.post('/api/v1/namespaces', namespace('trusted'));
});

afterAll(async () => {
  await Promise.all([t?.close(), strict?.close()]);
});

function namespace(name: string, labels: Record<string, string> = {}): Wire {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function pod(name: string, spec: Wire = {}, containerExtra: Wire = {}): Wire {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox:1', ...containerExtra }], ...spec } };
}

const privileged = (name: string) => pod(name, { hostNetwork: true }, { securityContext: { privileged: true } });
const hardened = (name: string) =>
  pod(
    name,
    { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } },
    { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
  );

/** The warnings of a response, as kubectl prints them. */
function warnings(headers: Headers): string[] {
  const raw = headers.get('warning');
  if (!raw) return [];
  return [...raw.matchAll(/299 - ("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string);
}

const RESTRICTED_DEFAULT_POD =
  'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

describe('a namespace that enforces baseline', () => {
  beforeAll(async () => {
    expect((await t.post('/api/v1/namespaces', namespace('base', { 'pod-security.kubernetes.io/enforce': 'baseline' }))).status).toBe(201);
  });

  it("refuses a privileged pod with 403 and upstream's message, and stores nothing", async () => {
    const r = await t.post('/api/v1/namespaces/base/pods', privileged('root'));
    expect(r.status).toBe(403);
    expect(r.body.reason).toBe('Forbidden');
    expect(r.body.message).toBe(
      'pods "root" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)',
    );
    expect(r.body.details).toEqual({ name: 'root', kind: 'pods' });
    expect((await t.get('/api/v1/namespaces/base/pods/root')).status).toBe(404);
    expect((await t.post('/api/v1/namespaces/base/pods?dryRun=All', privileged('root'))).status).toBe(403);
  });

  it('admits a default pod', async () => {
    expect((await t.post('/api/v1/namespaces/base/pods', pod('plain'))).status).toBe(201);
  });

  it('checks an ephemeral container added through pods/ephemeralcontainers (kubectl debug --profile=general adds SYS_PTRACE)', async () => {
    expect((await t.post('/api/v1/namespaces/base/pods', pod('debugged'))).status).toBe(201);
    const debug = (name: string, securityContext: Wire) => ({
      spec: { ephemeralContainers: [{ name, image: 'busybox:1', stdin: true, tty: true, securityContext }] },
    });
    const path = '/api/v1/namespaces/base/pods/debugged/ephemeralcontainers';
    const r = await t.patch(path, debug('dbg', { capabilities: { add: ['SYS_PTRACE'] } }), 'application/strategic-merge-patch+json');
    expect(r.status).toBe(403);
    expect(r.body.message).toBe(
      'pods "debugged" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "dbg" must not include "SYS_PTRACE" in securityContext.capabilities.add)',
    );
    expect((await t.get('/api/v1/namespaces/base/pods/debugged')).body.spec.ephemeralContainers).toBeUndefined();
    // --profile=baseline adds nothing baseline forbids.
    expect((await t.patch(path, debug('dbg', {}), 'application/strategic-merge-patch+json')).status).toBe(200);
  });

  it("only warns about a workload's template: its pods are checked when created", async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'root' },
      spec: { selector: { matchLabels: { app: 'r' } }, template: { metadata: { labels: { app: 'r' } }, spec: privileged('x').spec } },
    };
    const r = await t.post('/apis/apps/v1/namespaces/base/deployments', d);
    expect(r.status).toBe(201);
    // Without a warn label, warn follows the stricter enforce label.
    expect(warnings(r.headers)).toEqual([
      'would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)',
    ]);
  });
});

describe('warn and audit', () => {
  beforeAll(async () => {
    await t.post(
      '/api/v1/namespaces',
      namespace('watched', { 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' }),
    );
  });

  it('answers with a Warning and records the audit violation on the object', async () => {
    const r = await t.post('/api/v1/namespaces/watched/pods', pod('loose'));
    expect(r.status).toBe(201);
    expect(warnings(r.headers)).toEqual([RESTRICTED_DEFAULT_POD]);
    expect(r.body.metadata.annotations).toEqual({ 'pod-security.kubernetes.io/audit-violations': RESTRICTED_DEFAULT_POD });
    expect((await t.get('/api/v1/namespaces/watched/pods/loose')).body.metadata.annotations['pod-security.kubernetes.io/audit-violations']).toBe(
      RESTRICTED_DEFAULT_POD,
    );
  });

  it('keeps the record across a replace that leaves it out, and says nothing of a compliant pod', async () => {
    const current = (await t.get('/api/v1/namespaces/watched/pods/loose')).body;
    const replaced = await t.put('/api/v1/namespaces/watched/pods/loose', { ...current, metadata: { ...current.metadata, annotations: {} } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata.annotations['pod-security.kubernetes.io/audit-violations']).toBe(RESTRICTED_DEFAULT_POD);
    const good = await t.post('/api/v1/namespaces/watched/pods', hardened('tight'));
    expect(good.status).toBe(201);
    expect(warnings(good.headers)).toEqual([]);
    expect(good.body.metadata.annotations).toBeUndefined();
  });
});

describe('namespace labels', () => {
  it('refuses a bad label on create and on update with 422', async () => {
    const r = await t.post('/api/v1/namespaces', namespace('typo', { 'pod-security.kubernetes.io/enforce': 'strict' }));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'Namespace "typo" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
    await t.post('/api/v1/namespaces', namespace('later'));
    const p = await t.patch(
      '/api/v1/namespaces/later',
      { metadata: { labels: { 'pod-security.kubernetes.io/warn-version': 'latest-ish' } } },
      'application/merge-patch+json',
    );
    expect(p.status).toBe(422);
    expect(p.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.labels[pod-security.kubernetes.io/warn-version]',
        message: 'Invalid value: "latest-ish": must be "latest" or "v1.x"',
      },
    ]);
  });

  it('warns, when enforce tightens, about the running pods the new level would refuse', async () => {
    await t.post('/api/v1/namespaces', namespace('tighten'));
    for (const name of ['b-root', 'a-root']) expect((await t.post('/api/v1/namespaces/tighten/pods', privileged(name))).status).toBe(201);
    expect((await t.post('/api/v1/namespaces/tighten/pods', pod('plain'))).status).toBe(201);
    const r = await t.patch(
      '/api/v1/namespaces/tighten',
      { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } },
      'application/merge-patch+json',
    );
    expect(r.status).toBe(200);
    expect(warnings(r.headers)).toEqual([
      'existing pods in namespace "tighten" violate the new PodSecurity enforce level "baseline:latest"',
      'a-root (and 1 other pod): host namespaces, privileged',
    ]);
    // The pods keep running; new ones are refused.
    expect((await t.get('/api/v1/namespaces/tighten/pods/a-root')).status).toBe(200);
    expect((await t.post('/api/v1/namespaces/tighten/pods', privileged('c-root'))).status).toBe(403);
    // An update is checked only when it changes an image (all a pod update may change that the checks read).
    const current = (await t.get('/api/v1/namespaces/tighten/pods/a-root')).body;
    expect((await t.put('/api/v1/namespaces/tighten/pods/a-root', { ...current, metadata: { ...current.metadata, labels: { seen: 'yes' } } })).status).toBe(
      200,
    );
    const relabelled = (await t.get('/api/v1/namespaces/tighten/pods/a-root')).body;
    const newImage = { ...relabelled, spec: { ...relabelled.spec, containers: [{ ...relabelled.spec.containers[0], image: 'busybox:2' }] } };
    const r2 = await t.put('/api/v1/namespaces/tighten/pods/a-root', newImage);
    expect(r2.status).toBe(403);
    expect(r2.body.message).toMatch(/^pods "a-root" is forbidden: violates PodSecurity "baseline:latest": /);
  });
});

describe('cluster defaults and exemptions', () => {
  /** A request as another user (the HTTP front door of the test server has no authentication: everyone is the admin). */
  async function as(
    user: string,
    method: string,
    path: string,
    body: Wire,
    contentType = 'application/json',
  ): Promise<{ status: number; body: Wire; warnings: string[] }> {
    const req: ApiRequest = {
      method,
      path,
      query: new URLSearchParams(),
      headers: { 'content-type': contentType },
      body: Buffer.from(JSON.stringify(body)),
      user: { name: user, groups: ['system:authenticated'] },
    };
    const res = await strict.api.handle(req);
    const header = res.headers?.warning;
    return { status: res.status, body: 'body' in res ? res.body : undefined, warnings: header ? warnings(new Headers({ warning: header })) : [] };
  }

  it('enforces the default level on an unlabelled namespace and warns at the default warn level', async () => {
    const refused = await as('alice', 'POST', '/api/v1/namespaces/default/pods', privileged('root'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/^pods "root" is forbidden: violates PodSecurity "baseline:latest": host namespaces/);
    const admitted = await as('alice', 'POST', '/api/v1/namespaces/default/pods', pod('plain'));
    expect(admitted.status).toBe(201);
    expect(admitted.warnings).toEqual([RESTRICTED_DEFAULT_POD]);
  });

  it('exempts the users, namespaces and runtime classes the configuration names', async () => {
    expect((await as('kumo:token:admin', 'POST', '/api/v1/namespaces/default/pods', privileged('admins'))).status).toBe(201);
    expect((await as('alice', 'POST', '/api/v1/namespaces/trusted/pods', privileged('trusted'))).status).toBe(201);
    expect(
      (
        await as('alice', 'POST', '/api/v1/namespaces/default/pods', {
          ...privileged('sandboxed'),
          spec: { ...privileged('x').spec, runtimeClassName: 'kata' },
        })
      ).status,
    ).toBe(201);
    // A namespace label loosens the default for everyone.
    expect((await strict.post('/api/v1/namespaces', namespace('ops', { 'pod-security.kubernetes.io/enforce': 'privileged' }))).status).toBe(201);
    expect((await as('alice', 'POST', '/api/v1/namespaces/ops/pods', privileged('ops'))).status).toBe(201);
  });

  it('warns when an exempt namespace asks for a policy', async () => {
    const r = await as(
      'alice',
      'PATCH',
      '/api/v1/namespaces/trusted',
      { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      'application/merge-patch+json',
    );
    expect(r.status).toBe(200);
    expect(r.warnings).toEqual(['namespace "trusted" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored']);
  });
});
