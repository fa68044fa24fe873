/**
 * Tests that reach a ClusterIP need the node proxy to add it to this host
 * (CAP_NET_ADMIN): without it a laptop skips, saying why; CI (root) must not.
 */
export function needClusterIPs(why: string | undefined, skip: () => void): void {
  if (!why) return;
  if (process.env.CI === 'true') throw new Error(`CI=true but the node proxy cannot serve ClusterIPs: ${why}`);
  console.warn(`skipped: the node proxy cannot serve ClusterIPs here (${why})`);
  skip();
}
