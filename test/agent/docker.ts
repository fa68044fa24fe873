/**
 * What the docker runtime tests need: a Docker engine (tests skip loudly
 * without one on a laptop, and fail with CI=true), the test image
 * `kumo-test/busybox:1` built offline from the host's static busybox (no
 * registry is reachable), and cleanup of everything a test node started.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DockerEngine, DockerError } from '#lib/agent/docker/engine';
import { tar, type TarEntry } from '#lib/agent/docker/tar';
import { LABELS } from '#lib/agent/runtime';

export const TEST_IMAGE = 'kumo-test/busybox:1';

const engine = new DockerEngine();

/** Whether the docker tests run; without an engine they skip, except in CI where that is a failure. */
export async function dockerForTests(): Promise<boolean> {
  const ok = await engine.ping(3_000);
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but no Docker engine answers at ${engine.socketPath}: .ci/run must start dockerd`);
  console.warn(`\n*** SKIPPING docker runtime tests: no Docker engine answers at ${engine.socketPath} ***\n`);
  return false;
}

function busyboxPath(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  throw new Error('busybox is not installed (apt-get install busybox-static): it is needed to build the test image');
}

/** Builds kumo-test/busybox:1 from the static busybox binary unless it exists. */
export async function ensureTestImage(): Promise<void> {
  try {
    await engine.json('GET', `/images/${encodeURIComponent(TEST_IMAGE)}/json`);
    return;
  } catch (err) {
    if (!(err instanceof DockerError && err.status === 404)) throw err;
  }
  const bin = busyboxPath();
  const applets = execFileSync(bin, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox');
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', data: readFileSync(bin), mode: 0o755 },
    ...applets.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    ...['etc', 'tmp', 'proc', 'sys', 'dev', 'var', 'www'].map((d): TarEntry => ({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 })),
  ];
  const [repo, tag] = TEST_IMAGE.split(':');
  await engine.json('POST', '/images/create', {
    query: { fromSrc: '-', repo, tag, changes: 'ENV PATH=/bin' },
    raw: tar(entries),
    contentType: 'application/x-tar',
  });
}

/** Removes every container and volume a test node left behind. */
export async function removeNodeContainers(nodeName: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${LABELS.node}=${nodeName}`] });
  const list = await engine.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters } });
  await Promise.all(list.map((c) => engine.json('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } }).catch(() => undefined)));
  const vols = await engine.json<{ Volumes: { Name: string }[] | null }>('GET', '/volumes', { query: { filters } });
  await Promise.all((vols.Volumes ?? []).map((v) => engine.json('DELETE', `/volumes/${v.Name}`, { query: { force: true } }).catch(() => undefined)));
}

/** The containers of a test node (what `docker ps -a` shows for it). */
export async function nodeContainers(nodeName: string): Promise<{ Id: string; State: string; Labels: Record<string, string> }[]> {
  const filters = JSON.stringify({ label: [`${LABELS.node}=${nodeName}`] });
  return engine.json('GET', '/containers/json', { query: { all: true, filters } });
}

/** Kills a container the way a crash would (SIGKILL, outside the agent). */
export async function killContainer(id: string): Promise<void> {
  await engine.json('POST', `/containers/${id}/kill`, { query: { signal: 'SIGKILL' } });
}

export function uniqueNode(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
}
