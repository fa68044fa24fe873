/**
 * The guard of `kumo up --insecure-http`: plain HTTP has no credentials, so
 * whatever can reach the port can drive the cluster, and with the process
 * runtime run commands as the user. Three rules keep that to programs on
 * this machine:
 *
 * - the server binds to a loopback address only (isLoopbackAddress);
 * - a request must name a loopback Host (localhost, 127.0.0.1 or [::1], any
 *   port: `kubectl proxy`'s default --accept-hosts), which defeats DNS
 *   rebinding, where a web page reaches 127.0.0.1 under its own name;
 * - a request a browser sends for another site is refused: an `Origin`
 *   other than the server's own (the http:// origin of the Host asked for),
 *   including `null`, or a `Sec-Fetch-Site` other than same-origin or none
 *   (browsers mark with it even the cross-site GETs that carry no Origin).
 *   kubectl, helm and client-node send neither header.
 *
 * A refusal is a 403 Status and nothing is done. With HTTPS (the default) the
 * bearer token does this job: a web page cannot attach it.
 */
import { BlockList, isIP } from 'node:net';
import { StatusError } from '../api/errors.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether a listen address is on the loopback interface (`localhost`, 127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: string): boolean {
  if (address.toLowerCase() === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A Host header's name (brackets kept for IPv6) and port; undefined when it is not `name[:port]`. */
function hostName(host: string): string | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/.exec(host.toLowerCase());
  return m?.[1];
}

const ACCEPTED_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const INSECURE = 'an API server on plain HTTP (kumo up --insecure-http)';

export interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The refusal for a request to the plain-HTTP server, or undefined to let it
 * through. `boundAddress` (a loopback address other than the usual ones,
 * e.g. 127.0.0.2) is accepted as a Host name too.
 */
export function loopbackRefusal(req: GuardedRequest, boundAddress?: string): StatusError | undefined {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const host = header('host') ?? '';
  const name = hostName(host);
  const extra = boundAddress && isIP(boundAddress) === 6 ? `[${boundAddress}]` : boundAddress;
  if (!name || !(ACCEPTED_HOSTS.has(name) || name === extra)) {
    return StatusError.forbiddenRequest(`Host "${host}" is not a loopback name: ${INSECURE} answers only requests for localhost, 127.0.0.1 or [::1]`);
  }
  const origin = header('origin');
  if (origin !== undefined && !sameOrigin(origin, host)) {
    return StatusError.forbiddenRequest(`cross-origin request from "${origin}" refused: ${INSECURE} takes no requests from web pages`);
  }
  const site = header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return StatusError.forbiddenRequest(`${site} request from a web page refused: ${INSECURE} takes no requests from web pages`);
  }
  return undefined;
}

/** Whether `origin` is http:// on exactly the host and port the request was sent to. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).origin === new URL(`http://${host}`).origin;
  } catch {
    return false; // `null` (sandboxed frames, file: pages) and anything unparseable
  }
}
