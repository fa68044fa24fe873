/**
 * ServiceAccounts with the real kubectl on `kumo up`'s HTTPS front door:
 * the kind and its columns, the `default` account and `kube-root-ca.crt` in
 * every namespace, `kubectl create token` (TokenRequest) and what the API
 * makes of the tokens (authentication, binding to a pod, refusals), and
 * ServiceAccount admission of pods.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigFor, kubectlOk, kubectlRefused, rows, startKubectlCluster, type KubectlCluster } from './harness.js';
import { waitFor } from '../helpers/wait.js';
import { ensureBuilt, KUMO_BIN, run } from '../cli/harness.js';

let k: KubectlCluster;

beforeAll(async () => {
  await ensureBuilt();
  // HTTPS with the admin token (ServiceAccount tokens authenticate only there); the authenticator reads afresh on every request.
  k = await startKubectlCluster({
    insecureHttp: false,
    fakeNodes: { names: [], startDelayMs: 0 },
    serviceAccountTokenCacheMs: 0,
    mountServiceAccountToken: true,
  });
  writeFileSync(k.kubeconfig, kubeconfigFor(k.cluster.url, { caData: k.cluster.caData!, token: k.cluster.adminToken! }));
});
afterAll(async () => {
  await k?.dispose();
});

const ok = (args: string[], stdin?: string) => kubectlOk(k, args, stdin);
const refused = (args: string[], stdin?: string) => kubectlRefused(k, args, stdin);

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function pod(name: string, spec = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: busybox\n${spec}`;
}

/** GET `path` with `token` as the bearer, over the cluster's TLS: the status code. */
async function statusWith(token: string, path: string): Promise<number> {
  const r = await k.kubectl(['get', '--raw', path, `--token=${token}`]);
  if (r.code === 0) return 200;
  const m = /\((Unauthorized|Forbidden|NotFound)\)/.exec(r.stderr) ?? /Unauthorized/.exec(r.stderr);
  return m ? ({ Unauthorized: 401, Forbidden: 403, NotFound: 404 } as Record<string, number>)[m[1] ?? 'Unauthorized']! : -1;
}

describe('ServiceAccount', () => {
  it('keeps a default ServiceAccount and kube-root-ca.crt in every namespace, in kubectl columns', async () => {
    await ok(['create', 'namespace', 'team']);
    const table = await waitFor(async () => {
      const t = rows(await ok(['get', 'serviceaccounts', '-n', 'team']));
      return t.length > 1 && t;
    });
    expect(table).toEqual([
      ['NAME', 'SECRETS', 'AGE'],
      ['default', '0', expect.any(String)],
    ]);
    const ca = await waitFor(
      async () => (await k.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team', '-o', 'jsonpath={.data.ca\\.crt}'])).stdout || undefined,
    );
    expect(Buffer.from(ca).toString('base64')).toBe(k.cluster.caData);

    // Deleted or changed, both come back.
    await ok(['delete', 'serviceaccount', 'default', '-n', 'team']);
    await ok(['patch', 'configmap', 'kube-root-ca.crt', '-n', 'team', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    await waitFor(async () => (await k.kubectl(['get', 'sa', 'default', '-n', 'team'])).code === 0, { what: 'the default ServiceAccount back' });
    await waitFor(async () => (await ok(['get', 'cm', 'kube-root-ca.crt', '-n', 'team', '-o', 'jsonpath={.data.ca\\.crt}'])) === ca, { what: 'the CA back' });
  });

  it('is created, listed and described as kubectl does it', async () => {
    expect(await ok(['create', 'serviceaccount', 'robot', '-n', 'team'])).toBe('serviceaccount/robot created\n');
    await ok(['patch', 'sa', 'robot', '-n', 'team', '--type=merge', '-p', '{"secrets":[{"name":"gone"}],"imagePullSecrets":[{"name":"pull"}]}']);
    expect(rows(await ok(['get', 'sa', 'robot', '-n', 'team', '--no-headers']))[0]!.slice(0, 2)).toEqual(['robot', '1']);
    const described = await ok(['describe', 'sa', 'robot', '-n', 'team']);
    expect(described).toMatch(/^Name:\s+robot$/m);
    expect(described).toMatch(/^Namespace:\s+team$/m);
    expect(described).toMatch(/^Image pull secrets:\s+pull$/m);
    // kumo describe prints what kubectl describe does.
    const kumo = await run(process.execPath, [KUMO_BIN, 'describe', 'sa', 'robot', '-n', 'team'], { env: k.env });
    expect(kumo.stdout).toBe(described);
    expect(await refused(['create', 'serviceaccount', 'Bad_Name', '-n', 'team'])).toContain('metadata.name: Invalid value: "Bad_Name"');
  });

  it('issues tokens with kubectl create token, with kube claims, audience and duration', async () => {
    const uid = await ok(['get', 'sa', 'robot', '-n', 'team', '-o', 'jsonpath={.metadata.uid}']);
    const token = (await ok(['create', 'token', 'robot', '-n', 'team'])).trim();
    const c = claims(token);
    expect(c).toMatchObject({
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: 'system:serviceaccount:team:robot',
      aud: ['https://kubernetes.default.svc.cluster.local'],
      'kubernetes.io': { namespace: 'team', serviceaccount: { name: 'robot', uid } },
    });
    expect((c.exp as number) - (c.iat as number)).toBe(3600);
    expect(c.nbf).toBe(c.iat);
    expect(c.jti).toEqual(expect.any(String));

    const custom = claims((await ok(['create', 'token', 'robot', '-n', 'team', '--audience', 'vault', '--duration', '20m'])).trim());
    expect(custom.aud).toEqual(['vault']);
    expect((custom.exp as number) - (custom.iat as number)).toBe(1200);

    expect(await refused(['create', 'token', 'robot', '-n', 'team', '--duration', '5m'])).toBe(
      'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes',
    );
    expect(await refused(['create', 'token', 'nobody', '-n', 'team'])).toBe('error: failed to create token: serviceaccounts "nobody" not found');

    // The issuer's public documents.
    const discovery = JSON.parse(await ok(['get', '--raw', '/.well-known/openid-configuration']));
    expect(discovery).toMatchObject({ issuer: c.iss, jwks_uri: `${c.iss as string}/openid/v1/jwks`, id_token_signing_alg_values_supported: ['ES256'] });
    const jwks = JSON.parse(await ok(['get', '--raw', '/openid/v1/jwks']));
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' })]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('authenticates a token as its ServiceAccount until its bound pod is deleted', async () => {
    await ok(['create', '-n', 'team', '-f', '-'], pod('worker', '  serviceAccountName: robot\n'));
    const bound = (await ok(['create', 'token', 'robot', '-n', 'team', '--bound-object-kind', 'Pod', '--bound-object-name', 'worker'])).trim();
    const podUid = await ok(['get', 'pod', 'worker', '-n', 'team', '-o', 'jsonpath={.metadata.uid}']);
    expect(claims(bound)['kubernetes.io']).toMatchObject({ pod: { name: 'worker', uid: podUid } });
    // Authenticated as the ServiceAccount, authorized by RBAC: a binding to view lets it read its namespace.
    await ok(['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=team:robot', '-n', 'team']);
    expect(await statusWith(bound, '/api/v1/namespaces/team/serviceaccounts/robot')).toBe(200);

    expect(await refused(['create', 'token', 'robot', '-n', 'team', '--bound-object-kind', 'Pod', '--bound-object-name', 'absent'])).toBe(
      'error: failed to create token: pods "absent" not found',
    );
    await ok(['create', 'sa', 'other', '-n', 'team']);
    expect(await refused(['create', 'token', 'other', '-n', 'team', '--bound-object-kind', 'Pod', '--bound-object-name', 'worker'])).toBe(
      'error: failed to create token: cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.',
    );
    expect(
      await refused(['create', 'token', 'robot', '-n', 'team', '--bound-object-kind', 'Pod', '--bound-object-name', 'worker', '--bound-object-uid', 'stale']),
    ).toBe(
      'error: failed to create token: Operation cannot be fulfilled on Pod "worker": the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated',
    );

    await ok(['delete', 'pod', 'worker', '-n', 'team', '--wait=false']);
    await waitFor(async () => (await k.kubectl(['get', 'pod', 'worker', '-n', 'team'])).code !== 0, { what: 'the pod gone' });
    expect(await statusWith(bound, '/api/v1/namespaces/team/serviceaccounts/robot')).toBe(401);
  });

  it('refuses expired, forged and wrong-audience tokens and tokens of a deleted ServiceAccount with 401', async () => {
    const good = (await ok(['create', 'token', 'robot', '-n', 'team'])).trim();
    expect(await statusWith(good, '/api/v1/namespaces/team/serviceaccounts')).toBe(200);

    const [header, payload, signature] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims(good), sub: 'system:serviceaccount:kube-system:default' })).toString('base64url');
    expect(await statusWith(`${header}.${forgedPayload}.${signature}`, '/api/v1/namespaces/team/serviceaccounts')).toBe(401);
    expect(await statusWith(`${header}.${payload}.${signature!.slice(0, -4)}AAAA`, '/api/v1/namespaces/team/serviceaccounts')).toBe(401);

    const otherAudience = (await ok(['create', 'token', 'robot', '-n', 'team', '--audience', 'vault'])).trim();
    expect(await statusWith(otherAudience, '/api/v1/namespaces/team/serviceaccounts')).toBe(401);

    // Signed with the cluster's own key, but expired an hour ago.
    const key = createPrivateKey(readFileSync(join(k.cluster.dataDir, 'service-account-key.pem'), 'utf8'));
    const c = claims(good);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ 'kubernetes.io': c['kubernetes.io'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(c.iss as string)
      .setSubject(c.sub as string)
      .setAudience(c.aud as string[])
      .setIssuedAt(now - 7200)
      .setNotBefore(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key);
    expect(await statusWith(expired, '/api/v1/namespaces/team/serviceaccounts')).toBe(401);

    // Recreated under the same name, the ServiceAccount has another uid: the old tokens are void.
    await ok(['delete', 'sa', 'robot', '-n', 'team']);
    expect(await statusWith(good, '/api/v1/namespaces/team/serviceaccounts')).toBe(401);
    await ok(['create', 'sa', 'robot', '-n', 'team']);
    expect(await statusWith(good, '/api/v1/namespaces/team/serviceaccounts')).toBe(401);
    expect(await ok(['get', '--raw', '/metrics'])).toMatch(/^authentication_token_cache_request_total\{status="miss"\} \d+/m);
  });
});

describe('ServiceAccount admission', () => {
  it('runs a pod naming none as default, and refuses a pod naming one that does not exist', async () => {
    await ok(['create', '-n', 'team', '-f', '-'], pod('plain'));
    expect(await ok(['get', 'pod', 'plain', '-n', 'team', '-o', 'jsonpath={.spec.serviceAccountName} {.spec.serviceAccount}'])).toBe('default default');
    expect(await refused(['create', '-n', 'team', '-f', '-'], pod('lost', '  serviceAccountName: ghost\n'))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "lost" is forbidden: error looking up service account team/ghost: serviceaccount "ghost" not found',
    );
    expect(await k.kubectl(['get', 'pod', 'lost', '-n', 'team'])).toMatchObject({ code: 1 });
  });

  it('mounts the kube-api-access token volume in every container unless automount is off', async () => {
    const spec = async (name: string) => JSON.parse(await ok(['get', 'pod', name, '-n', 'team', '-o', 'json'])).spec;
    const plain = await spec('plain');
    const volume = plain.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(volume.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(volume.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    const mount = { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    expect(plain.containers[0].volumeMounts).toEqual([mount]);
    // Replaced from its manifest (which names neither), the pod keeps its ServiceAccount and volume.
    expect(await ok(['replace', '-n', 'team', '-f', '-'], pod('plain').replace('image: busybox', 'image: busybox:latest'))).toBe('pod/plain replaced\n');
    const replaced = await spec('plain');
    expect([replaced.serviceAccountName, replaced.volumes, replaced.containers[0].volumeMounts]).toEqual(['default', plain.volumes, [mount]]);

    await ok(['create', '-n', 'team', '-f', '-'], pod('init', '  initContainers:\n  - name: i\n    image: busybox\n'));
    const init = await spec('init');
    expect(init.initContainers[0].volumeMounts).toEqual([expect.objectContaining({ mountPath: mount.mountPath, readOnly: true })]);
    expect(init.volumes).toHaveLength(1);

    await ok(['create', '-n', 'team', '-f', '-'], pod('opted-out', '  automountServiceAccountToken: false\n'));
    expect((await spec('opted-out')).volumes).toBeUndefined();
    await ok(['create', '-n', 'team', '-f', '-'], 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: quiet\nautomountServiceAccountToken: false\n');
    await ok(['create', '-n', 'team', '-f', '-'], pod('quiet-pod', '  serviceAccountName: quiet\n'));
    expect((await spec('quiet-pod')).volumes).toBeUndefined();
    // The pod's own setting wins over its ServiceAccount's.
    await ok(['create', '-n', 'team', '-f', '-'], pod('loud-pod', '  serviceAccountName: quiet\n  automountServiceAccountToken: true\n'));
    expect((await spec('loud-pod')).volumes).toHaveLength(1);
  });
});
