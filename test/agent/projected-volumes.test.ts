/**
 * Projected volumes as the agent writes them (real files, the API stood in
 * by its answers): the kube-api-access layout (a pod-bound token, the
 * cluster CA from kube-root-ca.crt, the namespace), modes, renewal at 80%
 * of the token's lifetime through the atomic writer, and a failed renewal
 * that keeps the token the pod has.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { PodVolumes, type VolumeSources, VolumeSetupError } from '#lib/agent/volumes/manager';
import { TokenVolumeError } from '#lib/agent/volumes/projected';
import { ServiceAccountTokens, type TokenRequestSpec } from '#lib/agent/volumes/token-manager';
import { ManualClock } from '#lib/util/clock';

const root = mkdtempSync(join(tmpdir(), 'kumo-projected-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sources: VolumeSources = {
  configMap: (_ns, name) => Promise.resolve(name === 'kube-root-ca.crt' ? { data: { 'ca.crt': 'PEM' }, binaryData: {} } : undefined),
  secret: () => Promise.resolve(undefined),
  claim: () => Promise.resolve(undefined),
  persistentVolume: () => Promise.resolve(undefined),
};

function pod(volume: Record<string, unknown>): Pod & KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: 'team', uid: 'uid-1', labels: { app: 'x' } },
    spec: { serviceAccountName: 'reader', containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 'kube-api-access-abcde', ...volume }] },
  } as Pod & KObject;
}

const kubeApiAccess = {
  projected: {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  },
};

function setup(name: string) {
  const clock = new ManualClock();
  const requests: { ns: string; sa: string; spec: TokenRequestSpec }[] = [];
  let refuse: string | undefined;
  const tokens = new ServiceAccountTokens(
    (ns, sa, spec) => {
      requests.push({ ns, sa, spec });
      if (refuse) return Promise.reject(new Error(refuse));
      return Promise.resolve({
        token: `jwt-${requests.length}`,
        expiresAt: clock.now() + spec.expirationSeconds * 1000,
        expirationSeconds: spec.expirationSeconds,
      });
    },
    clock,
    () => 0,
  );
  const dir = join(root, name);
  const volumes = new PodVolumes(sources, { dataDir: dir, secretDir: join(dir, 'secrets'), tokens });
  return { clock, requests, volumes, refuse: (why: string | undefined) => (refuse = why) };
}

describe('projected volumes', () => {
  it('write the kube-api-access files: a token bound to the pod, the CA and the namespace', async () => {
    const { volumes, requests } = setup('layout');
    const paths = await volumes.setUp(pod(kubeApiAccess));
    const dir = paths.get('kube-api-access-abcde')!;
    expect(dir.startsWith(join(root, 'layout', 'secrets'))).toBe(true);
    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe('jwt-1');
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).toBe('PEM');
    expect(readFileSync(join(dir, 'namespace'), 'utf8')).toBe('team');
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o644);
    expect(requests).toEqual([
      {
        ns: 'team',
        sa: 'reader',
        spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'client', uid: 'uid-1' } },
      },
    ]);
  });

  it('renew the token at 80% of its lifetime and keep the old one when renewal fails', async () => {
    const { volumes, clock, refuse } = setup('rotate');
    const p = pod({ projected: { defaultMode: 0o600, sources: [{ serviceAccountToken: { expirationSeconds: 1000, path: 'token', audience: 'vault' } }] } });
    const dir = (await volumes.setUp(p)).get('kube-api-access-abcde')!;
    expect(volumes.nextTokenRefresh('uid-1')).toBe(clock.now() + 800_000);
    clock.advance(799_000);
    expect(await volumes.refresh(p)).toEqual([]);
    clock.advance(1_000);
    expect(await volumes.refresh(p)).toEqual(['kube-api-access-abcde']);
    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe('jwt-2');
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);

    clock.advance(800_000);
    refuse('serviceaccounts "reader" not found');
    await expect(volumes.refresh(p)).rejects.toThrow(
      new TokenVolumeError('MountVolume.SetUp failed for volume "kube-api-access-abcde" : failed to fetch token: serviceaccounts "reader" not found'),
    );
    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe('jwt-2');
    volumes.tearDown('uid-1');
    expect(volumes.nextTokenRefresh('uid-1')).toBeUndefined();
  });

  it('fail with the kubelet wording for a missing ConfigMap and for sources kumo cannot serve', async () => {
    const { volumes } = setup('errors');
    await expect(volumes.setUp(pod({ projected: { sources: [{ configMap: { name: 'nope' } }] } }))).rejects.toThrow(
      new VolumeSetupError('MountVolume.SetUp failed for volume "kube-api-access-abcde" : configmap "nope" not found'),
    );
    await expect(volumes.setUp(pod({ projected: { sources: [{ clusterTrustBundle: { path: 'b', signerName: 'x' } }] } }))).rejects.toThrow(
      'only configMap, secret, downwardAPI and serviceAccountToken projections are supported by kumo',
    );
  });
});
