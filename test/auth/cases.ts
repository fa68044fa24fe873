/**
 * Who may do what, asserted through the API (status code and Status body):
 * written once and run against the API server in-process (test/auth) and
 * against the bundled Lambda artifact on the emulator (test/cloud). Each
 * case sets up what it needs through the admin token, then acts with a
 * narrower one.
 */
import { describe, expect, it } from 'vitest';
import { issuedToken, mintToken, type Grant } from '#lib/auth/tokens';
import { sleep } from '#lib/util/sleep';

/** JSON off the wire; the assertions are the type check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Wire = any;

export interface AuthTarget {
  /** Sends one request; `token` undefined sends no Authorization header; `headers` are added (names in lower case). */
  send(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; contentType?: string; header?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Wire }>;
  /** The deploy-time admin token (Secrets Manager in the cloud). */
  adminToken: string;
  /** The node pool's bootstrap token. */
  bootstrapToken: string;
}

const PODS = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const SECRETS = (ns: string) => `/api/v1/namespaces/${ns}/secrets`;
const TOKENS = SECRETS('kumo-system');

export function authCases(label: string, target: () => AuthTarget): void {
  const t = () => target();
  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${seq++}`;

  async function ok(method: string, path: string, token: string, body?: unknown, contentType?: string): Promise<Wire> {
    const r = await t().send(method, path, { token, body, ...(contentType ? { contentType } : {}) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Stores a token record through the admin token; returns the bearer token, with the MAC the server stamped into the record. */
  async function token(grant: Grant): Promise<string> {
    const minted = mintToken(grant);
    return issuedToken(minted, await ok('POST', TOKENS, t().adminToken, minted.secret));
  }

  async function namespace(name: string): Promise<void> {
    await ok('POST', '/api/v1/namespaces', t().adminToken, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  async function boundPod(ns: string, name: string, node: string, spec: Record<string, unknown> = {}): Promise<void> {
    await ok('POST', PODS(ns), t().adminToken, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...spec },
    });
    await ok('POST', `${PODS(ns)}/${name}/binding`, t().adminToken, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { kind: 'Node', name: node },
    });
  }

  function expectUnauthorized(r: { status: number; body: Wire }): void {
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
  }

  function expectForbidden(r: { status: number; body: Wire }, why?: RegExp): void {
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 });
    if (why) expect(r.body.message).toMatch(why);
  }

  function node(name: string): Wire {
    return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} };
  }

  function lease(name: string): Wire {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40 },
    };
  }

  describe(`authentication and authorization (${label})`, () => {
    it('refuses a request without a token, with a malformed one, with a wrong secret and with an unknown id (401 Status)', async () => {
      expectUnauthorized(await t().send('GET', PODS('default')));
      expectUnauthorized(await t().send('GET', PODS('default'), { header: 'Basic YWRtaW46YWRtaW4=' }));
      expectUnauthorized(await t().send('GET', PODS('default'), { token: 'not-a-token' }));
      const [id] = t().adminToken.split('.');
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `${id}.${'x'.repeat(43)}` }));
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `nosuchid0.${'y'.repeat(43)}` }));
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `nosuchid0.${'y'.repeat(43)}.${'z'.repeat(22)}` }));
      expect((await t().send('GET', PODS('default'), { token: t().adminToken })).status).toBe(200);
    });

    it('accepts a stored token only with the MAC the server stamped into its record', async () => {
      const view = await token({ role: 'view' });
      expect(view).toMatch(/^[a-z0-9]{8}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
      expect((await t().send('GET', PODS('default'), { token: view })).status).toBe(200);
      const [id, secret, mac] = view.split('.') as [string, string, string];
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `${id}.${secret}` }));
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `${id}.${secret}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}` }));
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `${id}.${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}.${mac}` }));
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `${id}x.${secret}.${mac}` }));
      // A MAC a client sends in the record is replaced by the server's.
      const minted = mintToken({ role: 'view' });
      const chosen = { ...minted.secret, data: { ...(minted.secret as Wire).data, tokenMac: Buffer.from('A'.repeat(22)).toString('base64') } };
      const stored = await ok('POST', TOKENS, t().adminToken, chosen);
      expectUnauthorized(await t().send('GET', PODS('default'), { token: `${minted.token}.${'A'.repeat(22)}` }));
      expect((await t().send('GET', PODS('default'), { token: issuedToken(minted, stored) })).status).toBe(200);
    });

    it('refuses a request whose token does not authenticate on every path, public ones included', async () => {
      expect((await t().send('GET', '/version')).status).toBe(200);
      expectUnauthorized(await t().send('GET', '/version', { token: 'not-a-token' }));
      expectUnauthorized(await t().send('GET', '/apis', { token: `nosuchid0.${'y'.repeat(43)}.${'z'.repeat(22)}` }));
      expect((await t().send('GET', '/version', { token: t().adminToken })).status).toBe(200);
    });

    it('refuses an expired token and accepts one that has not expired', async () => {
      const past = await token({ role: 'admin', expiresAt: '2020-01-01T00:00:00Z' });
      expectUnauthorized(await t().send('GET', PODS('default'), { token: past }));
      const future = await token({ role: 'admin', expiresAt: '2999-01-01T00:00:00Z' });
      expect((await t().send('GET', PODS('default'), { token: future })).status).toBe(200);
    });

    it('lets a view token read but not write, and not read secrets', async () => {
      const view = await token({ role: 'view' });
      expect((await t().send('GET', PODS('default'), { token: view })).status).toBe(200);
      expect((await t().send('GET', '/apis/apps/v1/deployments', { token: view })).status).toBe(200);
      // As kube's view role: no nodes.
      expectForbidden(await t().send('GET', '/api/v1/nodes', { token: view }), /cannot list resource "nodes" in API group "" at the cluster scope$/);
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: unique('cm') }, data: { a: 'b' } };
      const write = await t().send('POST', '/api/v1/namespaces/default/configmaps', { token: view, body: cm });
      expectForbidden(
        write,
        /^configmaps is forbidden: User "kumo:token:[a-z0-9]+" cannot create resource "configmaps" in API group "" in the namespace "default"$/,
      );
      expect(write.body.details).toMatchObject({ kind: 'configmaps' });
      expectForbidden(await t().send('GET', SECRETS('default'), { token: view }), /secrets/);
      // Nothing was written.
      expect((await t().send('GET', `/api/v1/namespaces/default/configmaps/${cm.metadata.name}`, { token: t().adminToken })).status).toBe(404);
    });

    it('confines a namespaced token to its namespace', async () => {
      const ns = unique('team');
      await namespace(ns);
      const admin = await token({ role: 'admin', namespace: ns });
      const view = await token({ role: 'view', namespace: ns });
      const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: {} });
      expect((await t().send('POST', `/api/v1/namespaces/${ns}/configmaps`, { token: admin, body: cm('mine') })).status).toBe(201);
      expect((await t().send('GET', `/api/v1/namespaces/${ns}/configmaps/mine`, { token: view })).status).toBe(200);
      expect((await t().send('GET', `/api/v1/namespaces/${ns}`, { token: view })).status).toBe(200);
      expectForbidden(
        await t().send('POST', '/api/v1/namespaces/default/configmaps', { token: admin, body: cm(unique('theirs')) }),
        /cannot create resource "configmaps" in API group "" in the namespace "default"$/,
      );
      expectForbidden(await t().send('GET', PODS('default'), { token: view }), /cannot list resource "pods" in API group "" in the namespace "default"$/);
      expectForbidden(await t().send('GET', '/api/v1/pods', { token: admin }), /cannot list resource "pods" in API group "" at the cluster scope$/);
      expectForbidden(await t().send('GET', '/api/v1/nodes', { token: admin }), /cannot list resource "nodes" in API group "" at the cluster scope$/);
      expectForbidden(
        await t().send('DELETE', `/api/v1/namespaces/${ns}`, { token: admin }),
        new RegExp(
          `^namespaces "${ns}" is forbidden: User "kumo:token:[a-z0-9]+" cannot delete resource "namespaces" in API group "" in the namespace "${ns}"$`,
        ),
      );
    });

    it("authorizes metrics.k8s.io as the resources it serves: viewers read them (metrics-server's aggregated reader), a namespaced token only its namespace's pods", async () => {
      const ns = unique('metrics');
      await namespace(ns);
      const view = await token({ role: 'view' });
      const local = await token({ role: 'view', namespace: ns });
      const METRICS = '/apis/metrics.k8s.io/v1beta1';
      expect((await t().send('GET', `${METRICS}/nodes`, { token: view })).body).toMatchObject({ kind: 'NodeMetricsList' });
      expect((await t().send('GET', `${METRICS}/pods`, { token: view })).body).toMatchObject({ kind: 'PodMetricsList' });
      expect((await t().send('GET', `${METRICS}/namespaces/${ns}/pods`, { token: local })).body).toMatchObject({ kind: 'PodMetricsList' });
      const other = await t().send('GET', `${METRICS}/namespaces/default/pods`, { token: local });
      expectForbidden(other, /cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "default"$/);
      expect(other.body.details).toMatchObject({ group: 'metrics.k8s.io', kind: 'pods' });
      expectForbidden(
        await t().send('GET', `${METRICS}/nodes`, { token: local }),
        /cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope$/,
      );
      expect((await t().send('GET', `${METRICS}/nodes`, {})).status).toBe(401);
    });

    it('keeps the token records to cluster admins, even from an admin of their namespace', async () => {
      const kumoSystemAdmin = await token({ role: 'admin', namespace: 'kumo-system' });
      const forged = mintToken({ role: 'admin' });
      expectForbidden(await t().send('POST', TOKENS, { token: kumoSystemAdmin, body: forged.secret }), /only cluster admins/);
      expectForbidden(await t().send('GET', TOKENS, { token: kumoSystemAdmin }), /only cluster admins/);
      expectUnauthorized(await t().send('GET', PODS('default'), { token: forged.token }));
    });

    it("keeps a node token's rules for built-in events and secrets off custom resources of those names", async () => {
      const group = `${unique('nodes')}.example.com`;
      const crd = (plural: string, kind: string) => ({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          names: { plural, kind },
          scope: 'Namespaced',
          versions: [
            { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          ],
        },
      });
      await ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', t().adminToken, crd('events', 'Event'));
      await ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', t().adminToken, crd('secrets', 'Secret'));
      const path = (plural: string) => `/apis/${group}/v1/namespaces/default/${plural}`;
      const object = (kind: string) => ({ apiVersion: `${group}/v1`, kind, metadata: { name: 'x' } });
      // Served once the CRDs' revision check is due (at once on the server that wrote them).
      for (let i = 0; i < 50 && (await t().send('GET', path('secrets'), { token: t().adminToken })).status !== 200; i++) await sleep(100);
      await ok('POST', path('secrets'), t().adminToken, object('Secret'));
      const nodeToken = await token({ role: 'node', node: unique('node') });
      expectForbidden(await t().send('POST', path('events'), { token: nodeToken, body: object('Event') }), /may not create events/);
      expectForbidden(await t().send('GET', `${path('secrets')}/x`, { token: nodeToken }), /may not get secrets/);
    });

    it('lets a node token change only its own Node, Lease and the pods bound to it', async () => {
      const a = unique('node-a');
      const b = unique('node-b');
      const tokenA = await token({ role: 'node', node: a });
      const tokenB = await token({ role: 'node', node: b });
      // Registering: itself yes, another node no.
      expect((await t().send('POST', '/api/v1/nodes', { token: tokenA, body: node(a) })).status).toBe(201);
      expect((await t().send('POST', '/api/v1/nodes', { token: tokenB, body: node(b) })).status).toBe(201);
      expectForbidden(await t().send('POST', '/api/v1/nodes', { token: tokenA, body: node(unique('impostor')) }), /may only register itself/);
      // Node objects: its own status yes; another's status, labels or the Node itself no.
      const status = { status: { conditions: [{ type: 'Ready', status: 'True' }] } };
      const merge = 'application/merge-patch+json';
      expect((await t().send('PATCH', `/api/v1/nodes/${a}/status`, { token: tokenA, body: status, contentType: merge })).status).toBe(200);
      expectForbidden(await t().send('PATCH', `/api/v1/nodes/${b}/status`, { token: tokenA, body: status, contentType: merge }), /its own Node/);
      expectForbidden(
        await t().send('PATCH', `/api/v1/nodes/${b}`, { token: tokenA, body: { metadata: { labels: { x: 'y' } } }, contentType: merge }),
        /its own Node/,
      );
      expectForbidden(await t().send('DELETE', `/api/v1/nodes/${b}`, { token: tokenA }), /its own Node/);
      // Leases: its own yes, another's no (create, renew, delete).
      expect((await t().send('POST', LEASES, { token: tokenA, body: lease(a) })).status).toBe(201);
      expect((await t().send('POST', LEASES, { token: tokenB, body: lease(b) })).status).toBe(201);
      expectForbidden(await t().send('POST', LEASES, { token: tokenA, body: lease(unique('other')) }), /own lease/);
      const renew = { spec: { renewTime: '2026-01-01T00:00:00.000000Z' } };
      expect((await t().send('PATCH', `${LEASES}/${a}`, { token: tokenA, body: renew, contentType: merge })).status).toBe(200);
      expectForbidden(await t().send('PATCH', `${LEASES}/${b}`, { token: tokenA, body: renew, contentType: merge }), /own lease/);
      expectForbidden(await t().send('DELETE', `${LEASES}/${b}`, { token: tokenA }), /own lease/);
      // Pods: status and deletion of its own pods; nothing of another node's.
      await boundPod('default', `${a}-pod`, a);
      await boundPod('default', `${b}-pod`, b);
      const running = { status: { phase: 'Running' } };
      expect((await t().send('PATCH', `${PODS('default')}/${a}-pod/status`, { token: tokenA, body: running, contentType: merge })).status).toBe(200);
      expectForbidden(await t().send('PATCH', `${PODS('default')}/${b}-pod/status`, { token: tokenA, body: running, contentType: merge }), /pods bound to it/);
      expectForbidden(await t().send('DELETE', `${PODS('default')}/${b}-pod`, { token: tokenA }), /pods bound to it/);
      expectForbidden(
        await t().send('PATCH', `${PODS('default')}/${a}-pod`, { token: tokenA, body: { metadata: { labels: { x: 'y' } } }, contentType: merge }),
        /status of pods/,
      );
      expectForbidden(
        await t().send('POST', PODS('default'), {
          token: tokenA,
          body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: unique('p') }, spec: { containers: [{ name: 'c', image: 'x' }] } },
        }),
      );
      // Another node's pod is untouched; its own is deleted.
      const theirs = await ok('GET', `${PODS('default')}/${b}-pod`, t().adminToken);
      expect(theirs.status?.phase).not.toBe('Running');
      expect(theirs.metadata.deletionTimestamp).toBeUndefined();
      expect((await t().send('DELETE', `${PODS('default')}/${a}-pod`, { token: tokenA })).status).toBe(200);
      // Reading pods and nodes (an agent's informers) is allowed.
      expect((await t().send('GET', `${PODS('default')}?fieldSelector=spec.nodeName%3D${a}`, { token: tokenA })).status).toBe(200);
      expect((await t().send('GET', `/api/v1/nodes/${b}`, { token: tokenA })).status).toBe(200);
    });

    it('authorizes pods/ephemeralcontainers and pods/attach as subresources of their own: only a role that names pods/ephemeralcontainers lets one debug a pod', async () => {
      const ns = unique('debug');
      await namespace(ns);
      const host = unique('node-d');
      await boundPod(ns, 'target', host);
      const admin = await token({ role: 'admin', namespace: ns });
      const view = await token({ role: 'view', namespace: ns });
      const elsewhere = await token({ role: 'admin', namespace: 'default' });
      const ofTheNode = await token({ role: 'node', node: host });
      const path = `${PODS(ns)}/target/ephemeralcontainers`;
      const debug = {
        token: '',
        body: { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox:1.36' }] } },
        contentType: 'application/strategic-merge-patch+json',
      };
      const viewed = await t().send('PATCH', path, { ...debug, token: view });
      expectForbidden(viewed, /cannot patch resource "pods\/ephemeralcontainers" in API group "" in the namespace/);
      expectForbidden(await t().send('PATCH', path, { ...debug, token: elsewhere }), /cannot patch resource "pods\/ephemeralcontainers"/);
      expectForbidden(await t().send('PATCH', path, { ...debug, token: ofTheNode }), /status of pods/);
      // kube's admin role does not name pods/ephemeralcontainers either.
      expectForbidden(await t().send('PATCH', path, { ...debug, token: admin }), /cannot patch resource "pods\/ephemeralcontainers"/);
      for (const who of [view, elsewhere, ofTheNode]) {
        const attach = await t().send('POST', `${PODS(ns)}/target/attach?container=c&stdout=true`, { token: who });
        expectForbidden(attach);
        expect(attach.body.message).toMatch(/cannot create resource "pods\/attach"/);
      }
      // Nothing was added; reading the subresource is reading the pod (view's pods rule does not cover it: a rule for it does).
      expect((await ok('GET', `${PODS(ns)}/target`, t().adminToken)).spec.ephemeralContainers).toBeUndefined();
      // The namespace's admin grants itself what it holds and the debugging right; a Role naming the subresource lets it add one.
      const debugger_ = `kumo:token:${admin.split('.')[0]}`;
      await ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, t().adminToken, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'debugger' },
        rules: [{ apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['get', 'patch'] }],
      });
      await ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, t().adminToken, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'debugger' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'debugger' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: debugger_ }],
      });
      expect((await t().send('GET', path, { token: admin })).status).toBe(200);
      const added = await t().send('PATCH', path, { ...debug, token: admin });
      expect(added.status, JSON.stringify(added.body)).toBe(200);
      expect(added.body.spec.ephemeralContainers.map((c: Wire) => c.name)).toEqual(['dbg']);
    });

    it('lets a node get only the secrets its own pods refer to', async () => {
      const a = unique('node-s');
      const tokenA = await token({ role: 'node', node: a });
      const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { k: 'dg==' } });
      await ok('POST', SECRETS('default'), t().adminToken, secret(`${a}-used`));
      await ok('POST', SECRETS('default'), t().adminToken, secret(`${a}-unused`));
      await boundPod('default', `${a}-pod`, a, { volumes: [{ name: 'v', secret: { secretName: `${a}-used` } }] });
      expect((await t().send('GET', `${SECRETS('default')}/${a}-used`, { token: tokenA })).status).toBe(200);
      expectForbidden(await t().send('GET', `${SECRETS('default')}/${a}-unused`, { token: tokenA }), /refers to secret/);
      expectForbidden(await t().send('GET', SECRETS('default'), { token: tokenA }));
    });

    const RBAC = '/apis/rbac.authorization.k8s.io/v1';
    const G = 'rbac.authorization.k8s.io';

    it("lets a Role and RoleBinding give a user pods in one namespace, and nothing elsewhere (kube's 403)", async () => {
      const ns = unique('rbac');
      await namespace(ns);
      const alice = await token({ role: 'user', user: unique('alice'), groups: ['qa'] });
      const name = (await t().send('GET', '/api', { token: alice })).status;
      expect(name).toBe(200);
      await ok('POST', `${RBAC}/namespaces/${ns}/roles`, t().adminToken, {
        apiVersion: `${G}/v1`,
        kind: 'Role',
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      });
      const before = await t().send('GET', PODS(ns), { token: alice });
      expectForbidden(before, /^pods is forbidden: User "alice-[^"]+" cannot list resource "pods" in API group "" in the namespace "rbac-[^"]+"$/);
      await ok('POST', `${RBAC}/namespaces/${ns}/rolebindings`, t().adminToken, {
        apiVersion: `${G}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'qa-reads-pods' },
        roleRef: { apiGroup: G, kind: 'Role', name: 'pod-reader' },
        subjects: [{ apiGroup: G, kind: 'Group', name: 'qa' }],
      });
      expect((await t().send('GET', PODS(ns), { token: alice })).status).toBe(200);
      expectForbidden(await t().send('GET', PODS('default'), { token: alice }), /cannot list resource "pods" in API group "" in the namespace "default"$/);
      expectForbidden(await t().send('DELETE', `${PODS(ns)}/x`, { token: alice }), /cannot delete resource "pods"/);
    });

    it('lets a binding to a role that does not exist grant nothing, and says so', async () => {
      const ns = unique('ghost');
      await namespace(ns);
      const user = unique('bob');
      const bob = await token({ role: 'user', user });
      const created = await t().send('POST', `${RBAC}/namespaces/${ns}/rolebindings`, {
        token: t().adminToken,
        body: {
          apiVersion: `${G}/v1`,
          kind: 'RoleBinding',
          metadata: { name: 'to-nowhere' },
          roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'no-such-role' },
          subjects: [{ apiGroup: G, kind: 'User', name: user }],
        },
      });
      expect(created.status).toBe(201);
      expectForbidden(
        await t().send('GET', PODS(ns), { token: bob }),
        new RegExp(
          `cannot list resource "pods" in API group "" in the namespace "${ns}": RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found$`,
        ),
      );
    });

    it("refuses to let a user grant what it does not hold (kube's escalation check), and stores nothing", async () => {
      const ns = unique('esc');
      await namespace(ns);
      const admin = await token({ role: 'admin', namespace: ns });
      const role = (rules: unknown) => ({ apiVersion: `${G}/v1`, kind: 'Role', metadata: { name: unique('r') }, rules });
      // Within what the namespace's admin holds: allowed.
      const held = role([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create'] }]);
      expect((await t().send('POST', `${RBAC}/namespaces/${ns}/roles`, { token: admin, body: held })).status).toBe(201);
      // Beyond it: refused with kube's message, naming what it lacks.
      const wider = role([{ apiGroups: [''], resources: ['configmaps', 'resourcequotas'], verbs: ['get', 'update'] }]);
      const refused = await t().send('POST', `${RBAC}/namespaces/${ns}/roles`, { token: admin, body: wider });
      expectForbidden(refused);
      expect(refused.body.message).toMatch(
        new RegExp(
          `^roles.rbac.authorization.k8s.io "${wider.metadata.name}" is forbidden: user "kumo:token:[a-z0-9]+" \\(groups=\\["kumo:admins" "system:authenticated"\\]\\) is attempting to grant RBAC permissions not currently held:\n\\{APIGroups:\\[""\\], Resources:\\["resourcequotas"\\], Verbs:\\["update"\\]\\}$`,
        ),
      );
      expect((await t().send('GET', `${RBAC}/namespaces/${ns}/roles/${wider.metadata.name}`, { token: t().adminToken })).status).toBe(404);
      // Binding cluster-admin in its namespace: refused too (it may not bind it, nor does it hold its rules).
      const binding = {
        apiVersion: `${G}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'power' },
        roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: G, kind: 'User', name: 'mallory' }],
      };
      const bound = await t().send('POST', `${RBAC}/namespaces/${ns}/rolebindings`, { token: admin, body: binding });
      expectForbidden(
        bound,
        /^rolebindings.rbac.authorization.k8s.io "power" is forbidden: user "kumo:token:[a-z0-9]+" .* is attempting to grant RBAC permissions not currently held:\n/,
      );
      // Binding edit, whose rules admin holds: allowed.
      expect(
        (
          await t().send('POST', `${RBAC}/namespaces/${ns}/rolebindings`, {
            token: admin,
            body: { ...binding, metadata: { name: 'editors' }, roleRef: { ...binding.roleRef, name: 'edit' } },
          })
        ).status,
      ).toBe(201);
    });

    it('lets the bootstrap token enroll a new node once, and do nothing else', async () => {
      const name = unique('fresh');
      const first = mintToken({ role: 'node', node: name });
      const enrolled = await t().send('POST', TOKENS, { token: t().bootstrapToken, body: first.secret });
      expect(enrolled.status).toBe(201);
      expect((await t().send('POST', '/api/v1/nodes', { token: issuedToken(first, enrolled.body), body: node(name) })).status).toBe(201);
      // A second enrollment of the same node cannot take its identity.
      const second = mintToken({ role: 'node', node: name });
      const again = await t().send('POST', TOKENS, { token: t().bootstrapToken, body: second.secret });
      expect(again.status).toBe(409);
      expect(again.body.reason).toBe('AlreadyExists');
      expectUnauthorized(await t().send('GET', '/api/v1/nodes', { token: second.token }));
      // No other kind of token, no other request.
      expectForbidden(await t().send('POST', TOKENS, { token: t().bootstrapToken, body: mintToken({ role: 'admin' }).secret }), /new node/);
      expectForbidden(await t().send('POST', TOKENS, { token: t().bootstrapToken, body: mintToken({ role: 'node', node: 'x' }, 'sneaky').secret }), /new node/);
      expectForbidden(await t().send('GET', TOKENS, { token: t().bootstrapToken }));
      expectForbidden(await t().send('GET', PODS('default'), { token: t().bootstrapToken }), /enroll a node/);
    });
  });
}
