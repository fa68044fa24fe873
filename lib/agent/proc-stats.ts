/**
 * Resource use read from Linux's /proc, without spawning `ps`: a process
 * group's CPU time and resident memory (the process runtime runs each
 * container as its own group), and the host's (a node's usage). /proc
 * reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second
 * for userspace, and resident memory in pages, taken here as 4 KiB (the
 * page size of x86-64 and of most arm64 kernels). Elsewhere than Linux
 * every reader returns undefined: nothing is measured.
 */
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100;
const PAGE_BYTES = 4096;
const NS_PER_TICK = 1e9 / USER_HZ;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses): index 0 is field 3, `state`. */
function statFields(pid: string): string[] | undefined {
  const text = read(`/proc/${pid}/stat`);
  const end = text?.lastIndexOf(')') ?? -1;
  return text && end >= 0 ? text.slice(end + 2).split(' ') : undefined;
}

/** CPU time (user + system, ns) and resident memory (bytes) of every process in group `pgid`; undefined when none is left. */
export function processGroupStats(pgid: number): { cpuNanoseconds: number; memoryBytes: number } | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  let ticks = 0;
  let pages = 0;
  let found = false;
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    // Field 5 is the process group; 14 and 15 user and system time; 24 the resident set in pages.
    if (!f || Number(f[2]) !== pgid) continue;
    found = true;
    ticks += Number(f[11]) + Number(f[12]);
    pages += Number(f[21]);
  }
  return found ? { cpuNanoseconds: ticks * NS_PER_TICK, memoryBytes: pages * PAGE_BYTES } : undefined;
}

/** CPU time the host spent busy (every mode but idle and iowait), in ns, summed over its CPUs. */
export function hostCpuNanoseconds(): number | undefined {
  const line = read('/proc/stat')?.split('\n')[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * NS_PER_TICK;
}

/** The host's memory in use: MemTotal less MemAvailable (what the kernel could hand out without swapping). */
export function hostMemoryBytes(): number | undefined {
  const text = read('/proc/meminfo');
  const kib = (key: string) => Number(text?.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1]);
  const used = kib('MemTotal') - kib('MemAvailable');
  return Number.isFinite(used) ? used * 1024 : undefined;
}
