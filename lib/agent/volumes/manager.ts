/**
 * The volumes the agent itself materializes for a pod, as host directories
 * bind-mounted into its containers:
 *
 * - configMap and secret volumes: the object's keys as files (all keys, or
 *   `items` with their paths and modes; `defaultMode`; `optional`), written
 *   with the AtomicWriter and rewritten when the object changes, so mounted
 *   files follow updates (refresh());
 * - projected volumes (projected.ts): configMap, secret, downwardAPI and
 *   serviceAccountToken sources in one directory, the token renewed by the
 *   token manager (token-manager.ts) as refresh() comes round;
 * - persistentVolumeClaim volumes: the directory of the PersistentVolume the
 *   claim is bound to (hostPath or local), created if missing; it is never
 *   removed with the pod, so its data outlives it.
 *
 * Secret and projected volumes live under a tmpfs (/dev/shm) when the host has one, so
 * their contents never reach the disk; everything else under the agent's
 * data directory. A referenced object that is missing (and not optional)
 * fails the pod's setup with kubelet's FailedMount wording; the pod stays
 * ContainerCreating and the worker retries.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Pod, Volume } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import { writeAtomically } from './atomic-writer.js';
import { makePayload, type VolumeSources, VolumeSetupError } from './payload.js';
import { projectedPayload } from './projected.js';
import type { ServiceAccountTokens } from './token-manager.js';

export { makePayload, type VolumeSources, VolumeSetupError } from './payload.js';

type P = Pod & KObject;

function tmpfsRoot(): string | undefined {
  try {
    if (!statSync('/dev/shm').isDirectory()) return undefined;
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

/** Secret volumes of the agent with this data dir: on /dev/shm (tmpfs) when writable, so they never reach a disk. */
export function defaultSecretRoot(dataDir: string): string {
  const abs = resolve(dataDir);
  const shm = tmpfsRoot();
  return shm ? join(shm, 'kumo', createHash('sha256').update(abs).digest('hex').slice(0, 12)) : join(abs, 'secret-volumes');
}

export interface PodVolumesOptions {
  /** The agent's data directory. */
  dataDir: string;
  /** Where secret volumes go. @default a directory on /dev/shm when writable, else under dataDir */
  secretDir?: string;
  /** ServiceAccount tokens for projected volumes. @default none: a serviceAccountToken source fails its volume */
  tokens?: ServiceAccountTokens;
}

export class PodVolumes {
  private readonly podsRoot: string;
  private readonly secretsRoot: string;
  private readonly tokens: ServiceAccountTokens | undefined;

  constructor(
    private readonly sources: VolumeSources,
    opts: PodVolumesOptions,
  ) {
    const dataDir = resolve(opts.dataDir);
    this.podsRoot = join(dataDir, 'pods');
    // One directory per agent data dir, so agents on one host never share secret volumes.
    this.secretsRoot = opts.secretDir ? resolve(opts.secretDir) : defaultSecretRoot(dataDir);
    this.tokens = opts.tokens;
  }

  /** When the pod's projected tokens are next due for renewal, if it has any. */
  nextTokenRefresh(uid: string): number | undefined {
    return this.tokens?.nextRefresh(uid);
  }

  /** Removes every volume directory of this agent (its data dir is going away: tests, `kumo agent --reset`). */
  removeAll(): void {
    rmSync(this.podsRoot, { recursive: true, force: true });
    rmSync(this.secretsRoot, { recursive: true, force: true });
  }

  private podDir(uid: string): string {
    return join(this.podsRoot, uid);
  }

  /** The pod's managed /etc/hosts (see hosts.ts). */
  hostsFile(uid: string): string {
    return join(this.podDir(uid), 'etc-hosts');
  }

  /** The pod's resolv.conf (dns/resolv-conf.ts), removed with the pod's directory. */
  resolvConfFile(uid: string): string {
    return join(this.podDir(uid), 'resolv.conf');
  }

  private dirOf(uid: string, v: Volume): string {
    // A projected volume may hold a token or a Secret's keys: on the tmpfs with secret volumes.
    if (v.secret || v.projected) return join(this.secretsRoot, uid, v.name);
    return join(this.podDir(uid), 'volumes', v.name);
  }

  /**
   * Writes every configMap, secret and projected volume and resolves every
   * claim. Returns volume name → host path. Throws VolumeSetupError (the
   * first volume that cannot be set up).
   */
  async setUp(pod: P): Promise<Map<string, string>> {
    const ns = pod.metadata.namespace ?? 'default';
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.configMap || v.secret || v.projected) {
        out.set(v.name, await this.project(pod, v));
      } else if (v.persistentVolumeClaim) {
        out.set(v.name, await this.claimPath(ns, v.name, v.persistentVolumeClaim.claimName));
      }
    }
    return out;
  }

  /**
   * Rewrites configMap, secret and projected volumes whose contents changed
   * (a token due for renewal is renewed). Returns the names of the volumes
   * that changed. Every volume is tried; the first failure is thrown after.
   */
  async refresh(pod: P): Promise<string[]> {
    const changed: string[] = [];
    let failed: unknown;
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.configMap && !v.secret && !v.projected) continue;
      const before = this.version(pod.metadata.uid ?? '', v);
      try {
        await this.project(pod, v);
      } catch (err) {
        failed ??= err;
        continue;
      }
      if (this.version(pod.metadata.uid ?? '', v) !== before) changed.push(v.name);
    }
    if (failed) throw failed;
    return changed;
  }

  private version(uid: string, v: Volume): string | undefined {
    try {
      return statSync(join(this.dirOf(uid, v), '..data')).ino.toString();
    } catch {
      return undefined;
    }
  }

  private async project(pod: P, v: Volume): Promise<string> {
    const uid = pod.metadata.uid ?? '';
    const ns = pod.metadata.namespace ?? 'default';
    const dir = this.dirOf(uid, v);
    if (v.configMap) {
      const ref = v.configMap;
      const name = ref.name ?? '';
      const cm = await this.sources.configMap(ns, name);
      if (!cm && !ref.optional) throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${v.name}" : configmap "${name}" not found`);
      const values: Record<string, string> = { ...(cm?.binaryData ?? {}) };
      for (const [k, val] of Object.entries(cm?.data ?? {})) values[k] = Buffer.from(val, 'utf8').toString('base64');
      writeAtomically(dir, makePayload(v.name, 'configmap', values, ref.items, ref.defaultMode, !!ref.optional));
    } else if (v.secret) {
      const ref = v.secret;
      const name = ref.secretName ?? '';
      const data = await this.sources.secret(ns, name);
      if (!data && !ref.optional) throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${v.name}" : secret "${name}" not found`);
      mkdirSync(join(this.secretsRoot, uid), { recursive: true, mode: 0o700 });
      writeAtomically(dir, makePayload(v.name, 'secret', data ?? {}, ref.items, ref.defaultMode, !!ref.optional));
    } else if (v.projected) {
      const files = await projectedPayload(pod, v, this.sources, this.tokens);
      mkdirSync(join(this.secretsRoot, uid), { recursive: true, mode: 0o700 });
      writeAtomically(dir, files);
    }
    return dir;
  }

  private async claimPath(ns: string, volume: string, claimName: string): Promise<string> {
    const claim = await this.sources.claim(ns, claimName);
    if (!claim) throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volume}" : persistentvolumeclaim "${claimName}" not found`);
    if (claim.metadata.deletionTimestamp)
      throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volume}" : persistentvolumeclaim "${claimName}" is being deleted`);
    const pvName = claim.spec?.volumeName;
    if (!pvName || claim.status?.phase !== 'Bound')
      throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volume}" : persistentvolumeclaim "${claimName}" is not bound`);
    const pv = await this.sources.persistentVolume(pvName);
    if (!pv) throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volume}" : persistentvolume "${pvName}" not found`);
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (!path)
      throw new VolumeSetupError(
        `MountVolume.SetUp failed for volume "${volume}" : persistentvolume "${pvName}" has no hostPath or local source this node can mount`,
      );
    if (pv.spec?.local && !existsSync(path))
      throw new VolumeSetupError(`MountVolume.NewMounter initialization failed for volume "${pvName}" : path "${path}" does not exist`);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** Removes what setUp made for a pod (claims' directories stay: their data outlives the pod). */
  tearDown(uid: string): void {
    this.tokens?.forget(uid);
    rmSync(this.podDir(uid), { recursive: true, force: true });
    rmSync(join(this.secretsRoot, uid), { recursive: true, force: true });
  }

  /** The pods this agent holds directories for (to clean up after pods it no longer knows). */
  podsOnDisk(): string[] {
    return [...new Set([...readdirSafe(this.podsRoot), ...readdirSafe(this.secretsRoot)])];
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
