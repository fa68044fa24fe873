/**
 * Kubernetes' AtomicWriter for configMap and secret volumes: a volume
 * directory whose files change all at once, so a reader never sees half of
 * an update.
 *
 *   <dir>/..2026_01_01_00_00_00.123456789/<files>   one directory per version
 *   <dir>/..data -> ..2026_...                       swapped by rename(2)
 *   <dir>/<top> -> ..data/<top>                      one link per top-level name
 *
 * Files are written into a fresh version directory, the `..data` link is
 * replaced atomically (a temporary link renamed over it), then links for new
 * names are added, links for removed names and the old version go. The
 * directory is bind-mounted into containers, so they see each update.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits (defaultMode or the item's mode). */
  mode: number;
}

const DATA = '..data';

function versionName(): string {
  const d = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.${randomBytes(4).readUInt32BE(0) % 1_000_000_000}`;
}

/** A relative path a projection may use: no absolute paths, no `..` elements, not starting with `..`. */
export function validProjectionPath(path: string): boolean {
  if (!path || path.startsWith('/') || path.startsWith('..')) return false;
  return !path.split('/').some((p) => p === '..' || p === '');
}

function currentVersion(dir: string): string | undefined {
  try {
    return readlinkSync(join(dir, DATA));
  } catch {
    return undefined;
  }
}

/** Whether the volume already holds exactly these files with these modes. */
function unchanged(dir: string, files: ReadonlyMap<string, FileProjection>): boolean {
  const version = currentVersion(dir);
  if (!version) return false;
  const root = join(dir, version);
  const existing = new Set<string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else existing.add(p);
    }
  };
  try {
    walk('');
  } catch {
    return false;
  }
  if (existing.size !== files.size) return false;
  for (const [path, f] of files) {
    if (!existing.has(path)) return false;
    const full = join(root, path);
    if ((statSync(full).mode & 0o777) !== (f.mode & 0o777)) return false;
    if (!readFileSync(full).equals(f.data)) return false;
  }
  return true;
}

/**
 * Makes `dir` hold exactly `files` (relative path → content). Returns whether
 * anything changed. Safe to call repeatedly: an unchanged payload writes nothing.
 */
export function writeAtomically(dir: string, files: ReadonlyMap<string, FileProjection>): boolean {
  mkdirSync(dir, { recursive: true });
  if (unchanged(dir, files)) return false;
  const old = currentVersion(dir);
  const version = versionName();
  const root = join(dir, version);
  mkdirSync(root, { mode: 0o755 });
  for (const [path, f] of files) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
    writeFileSync(full, f.data);
    chmodSync(full, f.mode & 0o777);
  }
  chmodSync(root, 0o755);
  const tmp = join(dir, `..data_tmp_${randomBytes(4).toString('hex')}`);
  symlinkSync(version, tmp);
  renameSync(tmp, join(dir, DATA));
  const tops = new Set([...files.keys()].map((p) => p.split('/')[0]!));
  for (const top of tops) {
    const link = join(dir, top);
    try {
      if (lstatSync(link).isSymbolicLink()) continue;
      rmSync(link, { recursive: true, force: true });
    } catch {
      // absent: create below
    }
    symlinkSync(`${DATA}/${top}`, link);
  }
  for (const e of readdirSync(dir)) {
    if (e.startsWith('..') || tops.has(e)) continue;
    const link = join(dir, e);
    if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
  }
  if (old && old !== version) rmSync(join(dir, old), { recursive: true, force: true });
  return true;
}
