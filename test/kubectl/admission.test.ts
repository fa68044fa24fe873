/**
 * Admission and validation defaults as upstream kubectl v1.35 shows them
 * against `kumo up`: Pod Security's refusals and warnings, a replace of a
 * pod from its own manifest, and `delete namespace --all` leaving the
 * system namespaces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitFor } from '../helpers/wait.js';
import { type KubectlCluster, rows, startKubectlCluster } from './harness.js';

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster();
});

afterAll(async () => {
  await k?.dispose();
});

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await k.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** The `Warning: ...` lines kubectl prints on stderr. */
function warningLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('Warning: '))
    .map((l) => l.slice('Warning: '.length));
}

const PRIVILEGED = `apiVersion: v1
kind: Pod
metadata: {name: root}
spec:
  hostNetwork: true
  containers:
  - name: c
    image: busybox:1
    securityContext: {privileged: true}
`;

const PLAIN = `apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers:
  - {name: c, image: busybox:1}
`;

const RESTRICTED_WARNING =
  'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

describe('Pod Security', () => {
  it('refuses what the namespace enforces against and prints the warnings of its warn level', async () => {
    await ok(['create', 'namespace', 'psa']);
    await ok([
      'label',
      'namespace',
      'psa',
      'pod-security.kubernetes.io/enforce=baseline',
      'pod-security.kubernetes.io/warn=restricted',
      'pod-security.kubernetes.io/audit=restricted',
    ]);
    const refused = await k.kubectl(['apply', '-n', 'psa', '-f', k.file('psa/root.yaml', PRIVILEGED)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `Error from server (Forbidden): error when creating "${k.dir}/psa/root.yaml": pods "root" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)`,
    );
    expect((await k.kubectl(['get', 'pod', 'root', '-n', 'psa'])).code).toBe(1);

    const admitted = await ok(['apply', '-n', 'psa', '-f', k.file('psa/plain.yaml', PLAIN)]);
    expect(admitted.stdout.trim()).toBe('pod/plain created');
    expect(warningLines(admitted.stderr)).toEqual([RESTRICTED_WARNING]);
    const audit = await ok(['get', 'pod', 'plain', '-n', 'psa', '-o', 'jsonpath={.metadata.annotations.pod-security\\.kubernetes\\.io/audit-violations}']);
    expect(audit.stdout).toBe(RESTRICTED_WARNING);
  });

  it("warns about a Deployment's template, and its controller's pods are refused: no way around enforce", async () => {
    const template = { metadata: { labels: { app: 'root' } }, spec: { hostPID: true, containers: [{ name: 'c', image: 'busybox:1' }] } };
    const deployment = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'root' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'root' } }, template },
    });
    const applied = await ok(['apply', '-n', 'psa', '-f', k.file('psa/deployment.json', deployment)]);
    expect(applied.stdout.trim()).toBe('deployment.apps/root created');
    expect(warningLines(applied.stderr)).toEqual([
      'would violate PodSecurity "restricted:latest": host namespaces (hostPID=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ]);
    const failure = await waitFor(
      async () => {
        const list = parse((await ok(['get', 'replicasets', '-n', 'psa', '-l', 'app=root', '-o', 'yaml'])).stdout) as {
          items: { status?: { conditions?: { type: string; message: string }[] } }[];
        };
        return list.items[0]?.status?.conditions?.find((c) => c.type === 'ReplicaFailure')?.message;
      },
      { what: 'the ReplicaSet to report its refused pod' },
    );
    expect(failure).toMatch(/^pods "root-[a-z0-9]+-[a-z0-9]+" is forbidden: violates PodSecurity "baseline:latest": host namespaces \(hostPID=true\)$/);
    expect((await ok(['get', 'pods', '-n', 'psa', '-l', 'app=root', '-o', 'name'])).stdout).toBe('');
  });

  it('refuses a bad label value, and warns when a tighter enforce label meets running pods', async () => {
    await ok(['create', 'namespace', 'psa-tighten']);
    const bad = await k.kubectl(['label', 'namespace', 'psa-tighten', 'pod-security.kubernetes.io/enforce=strict']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      'The Namespace "psa-tighten" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
    await ok(['apply', '-n', 'psa-tighten', '-f', k.file('psa-tighten/root.yaml', PRIVILEGED)]);
    const tightened = await ok(['label', 'namespace', 'psa-tighten', 'pod-security.kubernetes.io/enforce=baseline']);
    expect(tightened.stdout.trim()).toBe('namespace/psa-tighten labeled');
    expect(warningLines(tightened.stderr)).toEqual([
      'existing pods in namespace "psa-tighten" violate the new PodSecurity enforce level "baseline:latest"',
      'root: host namespaces, privileged',
    ]);
  });
});

describe('replace and defaults', () => {
  const manifest = (image: string) => `apiVersion: v1
kind: Pod
metadata: {name: pinned}
spec:
  nodeName: node-1
  volumes:
  - name: scratch
  containers:
  - name: c
    image: ${image}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
`;

  it('replaces a pod from its own manifest, keeping what defaulting and admission set', async () => {
    await ok(['create', 'namespace', 'replace']);
    await ok(['create', '-n', 'replace', '-f', k.file('replace/pod.yaml', manifest('busybox:1'))]);
    const created = parse((await ok(['get', 'pod', 'pinned', '-n', 'replace', '-o', 'yaml'])).stdout);
    expect(created.spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
    expect(created.spec.priority).toBe(0);

    const replaced = await ok(['replace', '-n', 'replace', '-f', k.file('replace/pod-2.yaml', manifest('busybox:2'))]);
    expect(replaced.stdout.trim()).toBe('pod/pinned replaced');
    const after = parse((await ok(['get', 'pod', 'pinned', '-n', 'replace', '-o', 'yaml'])).stdout);
    expect(after.spec.containers[0].image).toBe('busybox:2');
    expect(after.spec.priority).toBe(0);
    expect(after.spec.tolerations).toEqual(created.spec.tolerations);
    expect(after.spec.tolerations.map((t: { key: string }) => t.key)).toEqual(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
  });
});

describe('namespaces', () => {
  it('delete namespace --all leaves the four system namespaces and the nodes', async () => {
    await ok(['create', 'namespace', 'doomed']);
    const r = await k.kubectl(['delete', 'namespace', '--all', '--wait=false']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('namespace "doomed" deleted');
    const errors = r.stderr.trim().split('\n').sort();
    expect(errors).toEqual(
      ['default', 'kube-node-lease', 'kube-public', 'kube-system'].map(
        (ns) => `Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`,
      ),
    );
    const left = rows((await ok(['get', 'namespaces'])).stdout).slice(1);
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) expect(left.find((row) => row[0] === ns)?.[1]).toBe('Active');
    const nodes = rows((await ok(['get', 'nodes'])).stdout).slice(1);
    expect(nodes.map((n) => n[1])).toEqual(['Ready', 'Ready', 'Ready']);
  });
});
