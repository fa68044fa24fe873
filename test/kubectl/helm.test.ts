/**
 * helm v4 (shipped with kubectl in the same layer) against `kumo up`:
 * install of a small local chart (a Deployment and a Service) with --wait,
 * upgrade, rollback history and uninstall. Helm 4 installs through
 * server-side apply and keeps releases in Secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENTS, SECRETS, SERVICES } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import { type KubectlCluster, startKubectlCluster } from './harness.js';

let k: KubectlCluster;
let chart: string;

beforeAll(async () => {
  k = await startKubectlCluster();
  k.file('chart/Chart.yaml', 'apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: "1.0"\n');
  k.file('chart/values.yaml', 'replicas: 2\nimage: nginx:1.25\n');
  k.file(
    'chart/templates/deployment.yaml',
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app.kubernetes.io/instance: {{ .Release.Name }}}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        ports:
        - containerPort: 80
`,
  );
  chart = k
    .file(
      'chart/templates/service.yaml',
      `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: {{ .Release.Name }}-web}
  ports:
  - port: 80
    targetPort: 80
`,
    )
    .replace(/\/templates\/service\.yaml$/, '');
});

afterAll(async () => {
  await k?.dispose();
});

async function helm(args: string[]): Promise<string> {
  const r = await k.helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('helm', () => {
  it('installs a chart and waits for it, upgrades, rolls back and uninstalls', async () => {
    const installed = await helm(['install', 'demo', chart, '--wait', '--timeout', '60s']);
    expect(installed).toMatch(/^NAME: demo\n/);
    expect(installed).toMatch(/\nSTATUS: deployed\nREVISION: 1\n/);
    const d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'demo-web');
    expect(d.status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 });
    expect(d.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm' });
    const svc = await k.cluster.client.get(SERVICES, 'default', 'demo-web');
    expect((svc.spec as { clusterIP: string }).clusterIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    // Releases live in Secrets of type helm.sh/release.v1.
    const secrets = await k.cluster.client.list(SECRETS, 'default', { labelSelector: 'owner=helm,name=demo' });
    expect(secrets.items.map((s) => [s.metadata.name, (s as { type?: string }).type])).toEqual([['sh.helm.release.v1.demo.v1', 'helm.sh/release.v1']]);

    // helm separates columns with tabs.
    const list = (await helm(['list']))
      .trim()
      .split('\n')
      .map((l) => l.split('\t').map((c) => c.trim()));
    expect(list[0]).toEqual(['NAME', 'NAMESPACE', 'REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION']);
    expect(list[1]).toEqual(['demo', 'default', '1', expect.any(String), 'deployed', 'demo-0.1.0', '1.0']);

    expect(await helm(['upgrade', 'demo', chart, '--set', 'replicas=3', '--set', 'image=nginx:1.26', '--wait', '--timeout', '60s'])).toMatch(/\nREVISION: 2\n/);
    await waitFor(
      async () => {
        const up = await k.cluster.client.get(DEPLOYMENTS, 'default', 'demo-web');
        return (up.status as { updatedReplicas?: number; readyReplicas?: number }).readyReplicas === 3;
      },
      { what: 'the upgraded release to be ready' },
    );
    const up = await k.cluster.client.get(DEPLOYMENTS, 'default', 'demo-web');
    expect(up.spec).toMatchObject({ replicas: 3, template: { spec: { containers: [{ image: 'nginx:1.26' }] } } });

    expect(await helm(['rollback', 'demo', '1', '--wait', '--timeout', '60s'])).toContain('Rollback was a success!');
    const back = await k.cluster.client.get(DEPLOYMENTS, 'default', 'demo-web');
    expect(back.spec).toMatchObject({ replicas: 2, template: { spec: { containers: [{ image: 'nginx:1.25' }] } } });
    const history = (await helm(['history', 'demo']))
      .trim()
      .split('\n')
      .map((l) => l.split('\t').map((c) => c.trim()));
    expect(history.slice(1).map((r) => [r[0], r[2]])).toEqual([
      ['1', 'superseded'],
      ['2', 'superseded'],
      ['3', 'deployed'],
    ]);

    expect(await helm(['uninstall', 'demo', '--wait', '--timeout', '60s'])).toBe('release "demo" uninstalled\n');
    expect(await k.cluster.client.find(DEPLOYMENTS, 'default', 'demo-web')).toBeUndefined();
    expect(await k.cluster.client.find(SERVICES, 'default', 'demo-web')).toBeUndefined();
    expect((await k.cluster.client.list(SECRETS, 'default', { labelSelector: 'owner=helm' })).items).toEqual([]);
  });
});
