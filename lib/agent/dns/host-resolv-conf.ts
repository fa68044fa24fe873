/**
 * The host's resolver configuration, read as the kubelet is configured to
 * read it (its --resolv-conf): `/etc/resolv.conf`, unless that names only
 * systemd-resolved's stub (127.0.0.53), which answers on the host's loopback
 * alone: a pod (or a forwarder in a pod's network) cannot reach it, and a
 * DNS server forwarding to it could loop back into itself. There, as
 * kubeadm sets up the kubelet, `/run/systemd/resolve/resolv.conf` (the
 * upstream servers systemd-resolved itself uses) is read instead.
 */
import { readFileSync } from 'node:fs';
import { parseResolvConf } from './resolv-conf.js';

export const ETC_RESOLV_CONF = '/etc/resolv.conf';
export const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';
const SYSTEMD_STUB = '127.0.0.53';

/** The file's text, or undefined when it cannot be read. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The text of the host's resolv.conf and the file it came from; an empty
 * text (no nameservers: the forwarder fails every query with SERVFAIL) when
 * neither file can be read.
 */
export function readHostResolvConf(read: (path: string) => string | undefined = readText): { path: string; text: string } {
  const etc = read(ETC_RESOLV_CONF) ?? '';
  const servers = parseResolvConf(etc).servers;
  if (servers.length > 0 && servers.every((s) => s === SYSTEMD_STUB)) {
    const systemd = read(SYSTEMD_RESOLV_CONF);
    if (systemd !== undefined) return { path: SYSTEMD_RESOLV_CONF, text: systemd };
  }
  return { path: ETC_RESOLV_CONF, text: etc };
}
