/**
 * The HTTPS client admission webhooks (and, later, conversion webhooks) are
 * called with, after kube's util/webhook client: HTTPS only; a `caBundle`,
 * when set, is the only trust (no system CAs), else the system's; a `url`
 * is dialed as written; a `service` is dialed at the address `resolve`
 * gives for it, verified under the name `<name>.<namespace>.svc` (the name
 * kube's webhook certificates carry). The request carries kube's
 * `?timeout=Ns`. Failures are WebhookCallError with Go's wording
 * (`Post "URL": context deadline exceeded`), which the dispatcher prefixes
 * with the webhook's name.
 */
import https from 'node:https';
import { isIP } from 'node:net';
import type { WebhookClientConfig } from '../../api/admissionregistration/v1/webhookconfiguration.js';

/** Where a Service reference is reachable: an address and port, or why there is none. */
export type ServiceResolver = (namespace: string, name: string, port: number) => Promise<{ host: string; port: number }>;

/** A webhook could not be called, or its answer could not be read. */
export class WebhookCallError extends Error {
  override name = 'WebhookCallError';
}

/**
 * Keep-alive agents by CA bundle, so consecutive calls to a webhook reuse
 * its TLS connection as kube's client does (a handshake per call costs more
 * than most webhooks take to answer). Bounded: a cluster has few bundles.
 */
const agents = new Map<string, https.Agent>();
function agentFor(ca: string | undefined): https.Agent {
  const key = ca ?? '';
  let agent = agents.get(key);
  if (!agent) {
    if (agents.size >= 64) {
      for (const a of agents.values()) a.destroy();
      agents.clear();
    }
    agents.set(key, (agent = new https.Agent({ keepAlive: true, maxSockets: 32, ...(ca ? { ca } : {}) })));
  }
  return agent;
}

/** Largest answer read from a webhook (kube's client reads at most what the apiserver accepts as a request). */
const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

/** Go's net/http wording for what Node reports. */
function goError(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${host}:${port}: connect: connection refused`;
    case 'ENOTFOUND':
      return `dial tcp: lookup ${host}: no such host`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${err.message}`;
    default:
      return err.message;
  }
}

/** The URL a webhook is reached at (what errors name) and the name its certificate must carry. */
function target(cc: WebhookClientConfig): { url: URL; servername: string; service?: { namespace: string; name: string; port: number } } {
  if (cc.url) {
    const url = new URL(cc.url);
    return { url, servername: url.hostname.replace(/^\[(.*)\]$/, '$1') };
  }
  const svc = cc.service!;
  const namespace = svc.namespace ?? '';
  const name = svc.name ?? '';
  const port = svc.port ?? 443;
  const servername = `${name}.${namespace}.svc`;
  return { url: new URL(`https://${servername}:${port}${svc.path ?? '/'}`), servername, service: { namespace, name, port } };
}

/**
 * POSTs `body` (JSON) to the webhook and returns its parsed JSON answer.
 * Rejects with WebhookCallError on a failed connection, a timeout after
 * `timeoutSeconds`, a status other than 200, or a body that is not JSON.
 */
export async function callWebhook(cc: WebhookClientConfig, body: unknown, timeoutSeconds: number, resolve: ServiceResolver): Promise<unknown> {
  const { url, servername, service } = target(cc);
  url.searchParams.set('timeout', `${timeoutSeconds}s`);
  // Go keeps a Service's port in the URL even when it is https' default.
  const shown = `Post "${service ? `https://${servername}:${service.port}${url.pathname}${url.search}` : url.toString()}"`;
  let dial: { host: string; port: number };
  try {
    dial = service ? await resolve(service.namespace, service.name, service.port) : { host: servername, port: Number(url.port || 443) };
  } catch (err) {
    throw new WebhookCallError(`${shown}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const { host, port } = dial;
  const payload = Buffer.from(JSON.stringify(body));
  const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : undefined;
  return new Promise((resolvePromise, reject) => {
    const fail = (why: string, cause?: unknown) => reject(new WebhookCallError(why, { cause }));
    const req = https.request(
      {
        method: 'POST',
        host,
        port,
        path: `${url.pathname}${url.search}`,
        servername: isIP(servername) ? undefined : servername,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length, host: url.host },
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        agent: agentFor(ca),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy();
            fail(`${shown}: response body too large`);
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => fail(`${shown}: ${err.message}`, err));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            fail(`the server responded with the status code ${res.statusCode} but did not return more information`);
            return;
          }
          try {
            resolvePromise(JSON.parse(text));
          } catch (err) {
            fail(`couldn't get version/kind; json parse error: ${(err as Error).message}`, err);
          }
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError' || err.name === 'TimeoutError') fail(`${shown}: context deadline exceeded`, err);
      else fail(`${shown}: ${goError(err, host, port)}`, err);
    });
    req.end(payload);
  });
}
