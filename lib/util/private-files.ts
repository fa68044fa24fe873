/**
 * Files only their owner may read: a data directory (0700) and the state,
 * tokens and keys in it (0600). The mode given to mkdir or open applies only
 * when the file is created, so each helper also tightens what already exists
 * (a data directory made by an older kumo, or by hand, with the umask's 0755).
 */
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';

/** Creates `dir` (and its parents) if needed and makes it 0700. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Makes an existing file 0600; a missing one is left missing. */
export function tightenFile(file: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
}

/** Creates `file` empty with mode 0600 unless it exists, then makes it 0600 (for files a library opens itself, like SQLite's). */
export function privateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** Writes `data` to `file` with mode 0600, whatever mode the file had. */
export function writePrivateFile(file: string, data: string | Uint8Array): void {
  writeFileSync(file, data, { mode: 0o600 });
  chmodSync(file, 0o600);
}
