/**
 * Makes ClusterIPs local addresses of this host, so the proxy can listen on
 * them (kube-proxy's IPVS mode binds ClusterIPs to a dummy device the same
 * way). Each is added as a /32 on a device (`lo` by default) with the `ip`
 * command; that needs CAP_NET_ADMIN. Containers on a bridge network reach
 * them through their default route (the host), and the host itself reaches
 * them directly. Only addresses this process added are removed again.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../../log/logger.js';

function run(args: string[]): Promise<{ ok: true } | { ok: false; message: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 5_000 }, (err, _stdout, stderr) => {
      if (!err) resolve({ ok: true });
      else resolve({ ok: false, message: (stderr || err.message).trim() });
    });
  });
}

export class LocalAddresses {
  /** Addresses we added (and so remove). */
  private readonly added = new Set<string>();
  /** Addresses that were already there (another process's): used, never removed. */
  private readonly found = new Set<string>();
  /** Why addresses cannot be added here (no CAP_NET_ADMIN, no `ip`), once known. */
  unavailable: string | undefined;

  constructor(
    private readonly device: string,
    private readonly logger: Logger,
    /** The warning when an address cannot be added: what it costs, for whoever reads the log. */
    private readonly explain: (ip: string, why: string) => string = (ip, why) =>
      `kumo proxy: cannot add ClusterIP ${ip} to ${device} (${why}): ClusterIPs are not reachable on this host; NodePorts still work (run as root, or with CAP_NET_ADMIN, for ClusterIPs)`,
  ) {}

  has(ip: string): boolean {
    return this.added.has(ip) || this.found.has(ip);
  }

  /** Adds `ip`/32 to the device. Returns whether the host now answers on it. */
  async add(ip: string): Promise<boolean> {
    if (this.has(ip)) return true;
    if (this.unavailable) return false;
    const res = await run(['-4', 'addr', 'add', `${ip}/32`, 'dev', this.device]);
    if (res.ok) {
      this.added.add(ip);
      return true;
    }
    // Already on the device (another process's, e.g. a second cluster's proxy on this host): older iproute2 says
    // "File exists", newer "Address already assigned".
    if (/File exists|already assigned/i.test(res.message)) {
      this.found.add(ip);
      return true;
    }
    this.unavailable = res.message;
    this.logger.warn(this.explain(ip, res.message));
    return false;
  }

  async remove(ip: string): Promise<void> {
    this.found.delete(ip);
    if (!this.added.delete(ip)) return;
    const res = await run(['-4', 'addr', 'del', `${ip}/32`, 'dev', this.device]);
    if (!res.ok && !/Cannot assign|not found/i.test(res.message)) this.logger.warn(`kumo proxy: cannot remove ${ip} from ${this.device}: ${res.message}`);
  }

  async removeAll(): Promise<void> {
    for (const ip of [...this.added, ...this.found]) await this.remove(ip);
  }
}
