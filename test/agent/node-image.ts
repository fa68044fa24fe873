/**
 * `kumo-test/node:<version>`: an image holding only this host's node binary
 * and the shared libraries `ldd` says it loads, made with the Engine API's
 * import (no registry is reachable). Tests mount the scripts and the
 * packages they run read-only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { DockerEngine, DockerError } from '#lib/agent/docker/engine';
import { tar, type TarEntry } from '#lib/agent/docker/tar';

export const NODE_IMAGE = `kumo-test/node:${process.versions.node}`;

/** The absolute paths of the libraries `binary` loads (the dynamic loader included). */
function sharedLibraries(binary: string): string[] {
  return execFileSync('ldd', [binary], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /(\/\S+) \(0x/.exec(line)?.[1])
    .filter((p): p is string => !!p);
}

export async function ensureNodeImage(): Promise<void> {
  const engine = new DockerEngine();
  try {
    await engine.json('GET', `/images/${encodeURIComponent(NODE_IMAGE)}/json`);
    return;
  } catch (err) {
    if (!(err instanceof DockerError && err.status === 404)) throw err;
  } finally {
    engine.close();
  }
  const node = realpathSync(process.execPath);
  const files = [node, ...sharedLibraries(node)];
  const dirs = new Set<string>(['tmp', 'etc', 'proc', 'sys', 'dev', 'app']);
  for (const f of files) {
    const parts = f.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [
    ...[...dirs].sort().map((d): TarEntry => ({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 })),
    // Read through symlinks: the image holds each library under the name the binary asks for.
    ...files.map((f): TarEntry => ({ type: 'file', path: f.slice(1), data: readFileSync(f), mode: 0o755 })),
  ];
  const [repo, tag] = NODE_IMAGE.split(':');
  const importer = new DockerEngine();
  try {
    await importer.json('POST', '/images/create', {
      query: { fromSrc: '-', repo, tag, changes: `ENV PATH=${node.slice(0, node.lastIndexOf('/'))}` },
      raw: tar(entries),
      contentType: 'application/x-tar',
    });
  } finally {
    importer.close();
  }
}
