/**
 * Host processes by pid, for the process runtime and `kumo down`. A pid
 * recorded in a file can outlive its process (a reboot, a crash) and be
 * reused by an unrelated one, so whoever signals a recorded pid first checks
 * its command line against what it started.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists (and may be signalled by us). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The command line of a running process, its arguments joined by spaces, or
 * undefined when there is no such process. Linux reads /proc; elsewhere
 * (macOS) `ps` prints it.
 */
export function commandLine(pid: number): string | undefined {
  if (!alive(pid)) return undefined;
  if (process.platform === 'linux') {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');
    } catch {
      return undefined;
    }
  }
  try {
    const out = execFileSync('ps', ['-ww', '-p', String(pid), '-o', 'command='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}
