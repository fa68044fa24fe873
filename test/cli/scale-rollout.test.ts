/**
 * `kumo scale` and `kumo rollout` against a cluster whose controllers run
 * the seed Deployment on three simulated nodes: what each command prints,
 * its exit code, what it changed through the API, and, where the output is
 * deterministic, that kubectl v1.35 prints the same against the same
 * cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '#lib/api/apps/v1/deployment';
import type { ReplicaSet } from '#lib/api/apps/v1/replicaset';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, REPLICASETS } from '#lib/kinds/resources';
import { deploymentStatus, rfc3339Local, rollbackPatch, rollbackTarget } from '#lib/cli/commands/rollout-deployment';
import { waitFor } from '../helpers/wait.js';
import { type CliCluster, ROOT, type RunResult, sideBySide, startCliCluster } from './harness.js';

type D = Deployment & KObject;
type RS = ReplicaSet & KObject;

const SEED = join(ROOT, 'examples', 'deployment.yaml');
const WEB = 'deployment/web-deploy';

/** A Deployment whose pods no node accepts: it never becomes available. */
function unschedulable(name: string, extra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 2${extra}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      nodeSelector: {kumo.io/nowhere: "true"}
      containers:
        - name: c
          image: nginx
`;
}

let c: CliCluster;

const web = () => c.cluster.client.get<D>(DEPLOYMENTS, 'default', 'web-deploy');
const ownedSets = async () => (await c.cluster.client.list<RS>(REPLICASETS, 'default', { labelSelector: 'app=web' })).items;

function same(pair: { kumo: RunResult; kubectl: RunResult }): void {
  expect(pair.kumo).toEqual(pair.kubectl);
}

/** Waits for the rollout through `kumo rollout status` itself: every line but the last is a waiting line. */
async function rolledOut(target: string): Promise<void> {
  const res = await c.kumo(['rollout', 'status', target, '--timeout=20s']);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  const lines = res.stdout.trimEnd().split('\n');
  expect(lines.at(-1)).toBe(`deployment "${target.split('/')[1]}" successfully rolled out`);
  for (const l of lines.slice(0, -1))
    expect(l).toMatch(/^Waiting for deployment ".+" rollout to finish: |^Waiting for deployment spec update to be observed\.\.\.$/);
}

beforeAll(async () => {
  c = await startCliCluster({ controllers: true, fakeNodes: { names: ['node-1', 'node-2', 'node-3'], startDelayMs: 50 } });
  const applied = await c.kumo(['apply', '-f', SEED]);
  expect(applied.stdout).toBe('deployment.apps/web-deploy created\n');
  expect(readFileSync(SEED, 'utf8')).toContain('replicas: 3');
}, 30_000);

afterAll(async () => {
  await c?.dispose();
});

describe('kumo rollout status', () => {
  it('prints waiting lines until the seed Deployment is rolled out, then what kubectl prints', async () => {
    await rolledOut(WEB);
    const d = await web();
    expect(d.status?.availableReplicas).toBe(3);
    same(await sideBySide(c, ['rollout', 'status', WEB]));
    same(await sideBySide(c, ['rollout', 'status', WEB, '--watch=false']));
  });

  it('times out with --timeout while replicas are unavailable, printing the state it saw', async () => {
    await c.kumo(['apply', '-f', c.file('never.yaml', unschedulable('never'))]);
    await waitFor(
      async () => {
        const d = await c.cluster.client.get<D>(DEPLOYMENTS, 'default', 'never');
        return d.status?.observedGeneration === d.metadata.generation && d.status?.updatedReplicas === 2;
      },
      { what: 'the never Deployment to be observed' },
    );
    const res = await c.kumo(['rollout', 'status', 'deploy/never', '--timeout=1s']);
    expect(res).toEqual({
      code: 1,
      stdout: 'Waiting for deployment "never" rollout to finish: 0 of 2 updated replicas are available...\n',
      stderr: 'error: timed out waiting for the condition\n',
    });
    same(await sideBySide(c, ['rollout', 'status', 'deploy/never', '--timeout=1s']));
    // --watch=false reports once and succeeds, rolled out or not.
    same(await sideBySide(c, ['rollout', 'status', 'deploy/never', '--watch=false']));
  });

  it("fails with kubectl's message once the progress deadline passed", async () => {
    await c.kumo(['apply', '-f', c.file('stuck.yaml', unschedulable('stuck', '\n  progressDeadlineSeconds: 1'))]);
    const res = await c.kumo(['rollout', 'status', 'deployment/stuck', '--timeout=15s']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('error: deployment "stuck" exceeded its progress deadline\n');
    const d = await c.cluster.client.get<D>(DEPLOYMENTS, 'default', 'stuck');
    expect(d.status?.conditions?.find((x) => x.type === 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
    same(await sideBySide(c, ['rollout', 'status', 'deployment/stuck']));
  });

  it('reports missing objects, kinds without a status viewer and missing arguments as kubectl does', async () => {
    const rs = (await ownedSets())[0]!.metadata.name!;
    for (const args of [
      ['rollout', 'status', 'deployment/nope'],
      ['rollout', 'status', `rs/${rs}`],
      ['rollout', 'status'],
      ['rollout', 'status', 'deploy/nope', `replicaset/${rs}`],
      ['rollout', 'status', 'deploy', '-n', 'kube-system'],
    ]) {
      const pair = await sideBySide(c, args);
      same(pair);
    }
  });
});

describe('kumo scale', () => {
  it('scales a Deployment through its scale subresource and prints "scaled"', async () => {
    const res = await c.kumo(['scale', WEB, '--replicas=5']);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy scaled\n', stderr: '' });
    expect((await web()).spec?.replicas).toBe(5);
    const k = await c.kubectl(['scale', WEB, '--replicas=4']);
    expect(k).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy scaled\n', stderr: '' });
    expect((await web()).spec?.replicas).toBe(4);
  });

  it('checks --current-replicas before writing, and changes nothing when it does not hold', async () => {
    const before = await web();
    const kumo = await c.kumo(['scale', WEB, '--current-replicas=2', '--replicas=3']);
    const kubectl = await c.kubectl(['scale', WEB, '--current-replicas=2', '--replicas=3']);
    expect(kumo).toEqual({ code: 1, stdout: '', stderr: 'error: Expected replicas to be 2, was 4\n' });
    expect(kumo).toEqual(kubectl);
    // The Deployment's spec is untouched (its status may still move as its controllers work).
    const after = await web();
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
    const ok = await c.kumo(['scale', WEB, '--current-replicas=4', '--replicas=3']);
    expect(ok.stdout).toBe('deployment.apps/web-deploy scaled\n');
    expect((await web()).spec?.replicas).toBe(3);
  });

  it('waits with --timeout until the status reports the new size', async () => {
    const res = await c.kumo(['scale', WEB, '--replicas=2', '--timeout=20s']);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy scaled\n', stderr: '' });
    const d = await web();
    expect(d.spec?.replicas).toBe(2);
    expect(d.status?.replicas).toBe(2);
    await c.kumo(['scale', WEB, '--replicas=3']);
    await rolledOut(WEB);
  });

  it('scales replica sets, honours --dry-run and -o name', async () => {
    await c.kumo(['apply', '-f', c.file('lonely.yaml', unschedulable('lonely').replace('kind: Deployment', 'kind: ReplicaSet'))]);
    expect(await c.kumo(['scale', 'REPLICASETS/lonely', '--replicas=0'])).toEqual({ code: 0, stdout: 'replicaset.apps/lonely scaled\n', stderr: '' });
    expect((await c.cluster.client.get<RS>(REPLICASETS, 'default', 'lonely')).spec?.replicas).toBe(0);
    for (const args of [
      ['scale', 'REPLICASETS/lonely', '--replicas=1', '--dry-run=client'],
      ['scale', 'REPLICASETS/lonely', '--replicas=1', '--dry-run=server'],
    ])
      same(await sideBySide(c, args));
    expect((await c.cluster.client.get<RS>(REPLICASETS, 'default', 'lonely')).spec?.replicas).toBe(0);
    expect((await c.kumo(['scale', 'REPLICASETS/lonely', '--replicas=0', '-o', 'name'])).stdout).toBe('replicaset.apps/lonely\n');
  });

  it("rejects bad input with kubectl's messages and writes nothing", async () => {
    const before = await web();
    for (const args of [
      ['scale', WEB],
      ['scale', WEB, '--replicas=-1'],
      ['scale', WEB, '--replicas=1', '--current-replicas=-2'],
      ['scale', '--replicas=1'],
      ['scale', 'deploy', '--replicas=1'],
      ['scale', 'deploy', '-l', 'app=nomatch', '--replicas=1'],
      ['scale', 'deploy/nope', '--replicas=1'],
      ['scale', 'pod/nope', '--replicas=1'],
      ['scale', 'foo/x', '--replicas=1'],
    ]) {
      const pair = await sideBySide(c, args);
      expect(pair.kumo.code, args.join(' ')).toBe(1);
      same(pair);
    }
    expect((await web()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});

describe('kumo rollout history, undo, restart, pause and resume', () => {
  it("prints the revision table and one revision's template as kubectl does", async () => {
    same(await sideBySide(c, ['rollout', 'history', WEB]));
    expect((await c.kumo(['rollout', 'history', WEB])).stdout).toBe('deployment.apps/web-deploy \nREVISION  CHANGE-CAUSE\n1         <none>\n\n');

    // A second revision: a new image with a change cause.
    const d = await web();
    await c.cluster.client.patch(
      DEPLOYMENTS,
      'default',
      'web-deploy',
      {
        metadata: { annotations: { 'kubernetes.io/change-cause': 'nginx 1.17' } },
        spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.17' }] } } },
      },
      'strategic',
    );
    expect((await web()).metadata.generation).toBe((d.metadata.generation ?? 0) + 1);
    await rolledOut(WEB);

    const table = await sideBySide(c, ['rollout', 'history', WEB]);
    expect(table.kumo.stdout).toBe('deployment.apps/web-deploy \nREVISION  CHANGE-CAUSE\n1         <none>\n2         nginx 1.17\n\n');
    same(table);
    for (const args of [
      ['rollout', 'history', WEB, '--revision=2'],
      ['rollout', 'history', WEB, '--revision=1'],
      ['rollout', 'history', WEB, '--revision=9'],
      ['rollout', 'history', WEB, '-o', 'name'],
      ['rollout', 'history', 'deploy/nope'],
      ['rollout', 'history', 'rs/lonely'],
      ['rollout', 'history'],
    ])
      same(await sideBySide(c, args));
    expect((await c.kumo(['rollout', 'history', WEB, '--revision=2'])).stdout).toContain('Annotations:\tkubernetes.io/change-cause: nginx 1.17\n');
  });

  it("undo puts the previous template back with one JSON patch; kubectl undoes kumo's undo", async () => {
    const res = await c.kumo(['rollout', 'undo', WEB]);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy rolled back\n', stderr: '' });
    let d = await web();
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('nginx:1.16');
    expect(d.spec?.template?.metadata?.labels).toEqual({ app: 'web' });
    expect(d.metadata.annotations?.['kubernetes.io/change-cause']).toBeUndefined();
    await rolledOut(WEB);
    d = await web();
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    // Revision 1 became revision 3: the old ReplicaSet was reused, not copied.
    expect((await ownedSets()).filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid))).toHaveLength(2);
    expect((await c.kumo(['rollout', 'history', WEB])).stdout).toBe(
      'deployment.apps/web-deploy \nREVISION  CHANGE-CAUSE\n2         nginx 1.17\n3         <none>\n\n',
    );

    const k = await c.kubectl(['rollout', 'undo', WEB]);
    expect(k).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy rolled back\n', stderr: '' });
    await rolledOut(WEB);
    d = await web();
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('nginx:1.17');
    expect(d.metadata.annotations?.['kubernetes.io/change-cause']).toBe('nginx 1.17');
  });

  it('undo to the current revision is skipped; unknown revisions and dry runs print what kubectl prints', async () => {
    const rv = (await web()).metadata.resourceVersion;
    for (const args of [
      ['rollout', 'undo', WEB, '--to-revision=4'],
      ['rollout', 'undo', WEB, '--to-revision=9'],
      ['rollout', 'undo', WEB, '--dry-run=client'],
      ['rollout', 'undo', WEB, '--dry-run=server'],
      ['rollout', 'undo', 'rs/lonely'],
      ['rollout', 'undo', 'deploy/nope'],
      ['rollout', 'undo'],
    ])
      same(await sideBySide(c, args));
    expect((await c.kumo(['rollout', 'undo', WEB, '--to-revision=4'])).stdout).toBe(
      'deployment.apps/web-deploy skipped rollback (current template already matches revision 4)\n',
    );
    expect((await web()).metadata.resourceVersion).toBe(rv);
  });

  it('restart stamps the template with restartedAt under field manager kubectl-rollout, starting a new rollout', async () => {
    const before = await web();
    const res = await c.kumo(['rollout', 'restart', WEB]);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy restarted\n', stderr: '' });
    const d = await web();
    const stamp = d.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    expect(Math.abs(Date.parse(stamp!) - Date.now())).toBeLessThan(60_000);
    expect(d.metadata.generation).toBe((before.metadata.generation ?? 0) + 1);
    expect(d.metadata.managedFields?.some((m) => m.manager === 'kubectl-rollout' && m.operation === 'Update')).toBe(true);
    await rolledOut(WEB);
    expect((await web()).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('5');
    // kubectl restarts what kumo restarted (a later second, else it refuses as kumo would).
    await waitFor(() => new Date().toISOString().slice(0, 19) !== new Date(Date.parse(stamp!)).toISOString().slice(0, 19), { what: 'the next second' });
    expect(await c.kubectl(['rollout', 'restart', WEB])).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy restarted\n', stderr: '' });
    for (const args of [
      ['rollout', 'restart', 'rs/lonely'],
      ['rollout', 'restart', 'deploy/nope'],
      ['rollout', 'restart', 'deploy', '-l', 'app=nomatch'],
    ])
      same(await sideBySide(c, args));
    await rolledOut(WEB);
  });

  it('pause and resume set spec.paused; a paused Deployment refuses restart and undo', async () => {
    expect(await c.kumo(['rollout', 'pause', WEB])).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy paused\n', stderr: '' });
    expect((await web()).spec?.paused).toBe(true);
    for (const args of [
      ['rollout', 'pause', WEB],
      ['rollout', 'restart', WEB],
      ['rollout', 'pause', 'rs/lonely'],
      ['rollout', 'pause', 'deploy/nope', 'rs/lonely', 'deploy/nope2'],
    ]) {
      same(await sideBySide(c, args));
    }
    const undo = await sideBySide(c, ['rollout', 'undo', WEB]);
    expect(undo.kumo).toEqual({
      code: 1,
      stdout: '',
      stderr: "error: you cannot rollback a paused deployment; resume it first with 'kumo rollout resume' and try again\n",
    });
    expect(undo.kubectl.stderr).toBe(undo.kumo.stderr.replace("'kumo rollout resume'", "'kubectl rollout resume'"));

    expect(await c.kubectl(['rollout', 'resume', WEB])).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy resumed\n', stderr: '' });
    expect((await web()).spec?.paused).toBeUndefined();
    same(await sideBySide(c, ['rollout', 'resume', WEB]));
    expect(await c.kumo(['rollout', 'pause', WEB])).toMatchObject({ code: 0 });
    expect(await c.kumo(['rollout', 'resume', WEB])).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy resumed\n', stderr: '' });
    expect((await web()).spec?.paused).toBeUndefined();
    await rolledOut(WEB);
  });
});

describe('deployment rollout helpers', () => {
  const deployment = (status: Deployment['status'], generation = 2, replicas = 3): D =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        generation,
        uid: 'u1',
        annotations: { 'deployment.kubernetes.io/revision': '4', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      spec: { replicas, selector: {}, template: {} },
      status,
    }) as D;
  const rs = (name: string, revision: string, image: string, annotations: Record<string, string> = {}): RS =>
    ({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, annotations: { 'deployment.kubernetes.io/revision': revision, 'deployment.kubernetes.io/desired-replicas': '3', ...annotations } },
      spec: { selector: {}, template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image }] } } },
    }) as RS;

  it("words each rollout state as kubectl's DeploymentStatusViewer", () => {
    const cases: [Deployment['status'], string, boolean][] = [
      [{ observedGeneration: 1 }, 'Waiting for deployment spec update to be observed...\n', false],
      [
        { observedGeneration: 2, updatedReplicas: 1, replicas: 3 },
        'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n',
        false,
      ],
      [
        { observedGeneration: 2, updatedReplicas: 3, replicas: 4 },
        'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n',
        false,
      ],
      [
        { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 },
        'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...\n',
        false,
      ],
      [{ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }, 'deployment "web" successfully rolled out\n', true],
    ];
    for (const [status, message, done] of cases) expect(deploymentStatus(deployment(status), 0)).toEqual({ message, done });
    const timedOut = deployment({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
    expect(() => deploymentStatus(timedOut, 0)).toThrow('deployment "web" exceeded its progress deadline');
    expect(() => deploymentStatus(deployment({ observedGeneration: 2 }), 3)).toThrow('desired revision (3) is different from the running revision (4)');
  });

  it("rolls back to the second-highest revision by default and keeps the Deployment's bookkeeping annotations", () => {
    const d = deployment({});
    const sets = [rs('a', '1', 'v1'), rs('c', '4', 'v4'), rs('b', '3', 'v3', { 'kubernetes.io/change-cause': 'three' })];
    expect(rollbackTarget(d, sets, 0).metadata.name).toBe('b');
    expect(rollbackTarget(d, sets, 1).metadata.name).toBe('a');
    expect(() => rollbackTarget(d, sets, 2)).toThrow('unable to find specified revision 2 in history');
    expect(() => rollbackTarget(d, [sets[1]!], 0)).toThrow('no rollout history found for deployment "web"');
    expect(rollbackPatch(d, sets[2]!)).toEqual([
      { op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v3' }] } } },
      {
        op: 'replace',
        path: '/metadata/annotations',
        value: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '4', 'kubernetes.io/change-cause': 'three' },
      },
    ]);
    expect(sets[2]!.spec?.template?.metadata?.labels?.['pod-template-hash']).toBe('b');
  });

  it("stamps restarts with Go's RFC 3339 layout", () => {
    expect(rfc3339Local(new Date())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  });
});
