/** What files take under a directory, as `du` counts them. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes allocated to everything under `path` (symlinks not followed, each
 * entry's blocks counted once per directory entry); 0 for a path that does
 * not exist. Entries that vanish while it walks are skipped.
 */
export async function diskUsage(path: string): Promise<number> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return 0;
  }
  // st.blocks is in 512-byte units, whatever the filesystem's block size (POSIX).
  let total = st.blocks * 512;
  if (!st.isDirectory()) return total;
  let names: string[];
  try {
    names = await readdir(path);
  } catch {
    return total;
  }
  for (const name of names) total += await diskUsage(join(path, name));
  return total;
}
