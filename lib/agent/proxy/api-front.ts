/**
 * The `kubernetes` Service on a cloud node: the API server is a Lambda
 * behind a Function URL, which has no address an Endpoints object could
 * hold, and whose Amazon certificate names the URL's host, not the
 * ClusterIP or `kubernetes.default.svc` a pod's client verifies against
 * the cluster CA (`ca.crt` of the kube-root-ca.crt ConfigMap). So the node
 * proxy answers the Service itself:
 *
 *   pod ──TLS (cluster CA's certificate for the ClusterIP and names)──▶ node proxy
 *       ──HTTPS (Amazon's certificate, verified as usual)──▶ Function URL
 *
 * It terminates TLS with a serving certificate the stack issues from its
 * cluster CA (kept in Secrets Manager; the node gets the certificate and
 * key, never the CA's key) and sends each HTTP request on to the API URL
 * with its method, path, headers (Authorization included: the API server
 * authenticates the pod's token itself) and streamed body, the Host
 * header made the URL's. Upgrades (exec, attach, port-forward over
 * WebSocket/SPDY) are refused with 501: a Function URL cannot carry them.
 *
 * Node's http(s) modules do the proxying: one request/response pipe,
 * smaller than wiring a proxy library (http-proxy is unmaintained since
 * 2020) for what it does here.
 */
import { createServer as createHttpsServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';

/** Where the Service's requests go and the certificate it presents to pods. */
export interface ApiServerFrontOptions {
  /** The API server's URL (the Function URL): `https://host[:port][/base]`. */
  upstream: string;
  /** PEM certificate (chain) and key the front presents: issued by the cluster CA for the ClusterIP and the Service's names. */
  cert: string;
  key: string;
  /** Extra CAs to trust for the upstream (a stand-in in tests). @default the system's */
  upstreamCa?: string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their hop. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export class ApiServerFront {
  private readonly server: Server;
  private readonly upstream: URL;

  constructor(
    private readonly opts: ApiServerFrontOptions,
    private readonly logger: Logger,
  ) {
    this.upstream = new URL(opts.upstream);
    if (this.upstream.protocol !== 'https:' && this.upstream.protocol !== 'http:') throw new Error(`the API server URL ${opts.upstream} is not http(s)`);
    this.server = createHttpsServer({ cert: opts.cert, key: opts.key }, (req, res) => this.forward(req, res));
    this.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      socket.end(
        'HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nupgrades (exec, attach, port-forward) do not reach the API server through the kubernetes Service on this node\n',
      );
    });
    // A client that goes away mid-handshake is its own business.
    this.server.on('tlsClientError', () => undefined);
  }

  /** Serves one accepted connection (the proxy's listener on ClusterIP:443 hands them over). */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    headers.host = this.upstream.host;
    const forwardedFor = req.headers['x-forwarded-for'];
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
    const base = this.upstream.pathname.replace(/\/$/, '');
    const send = this.upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(
      {
        protocol: this.upstream.protocol,
        hostname: this.upstream.hostname,
        port: this.upstream.port || undefined,
        method: req.method,
        path: `${base}${req.url ?? '/'}`,
        headers,
        servername: this.upstream.hostname,
        ...(this.opts.upstreamCa ? { ca: this.opts.upstreamCa } : {}),
      },
      (answer) => {
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
        // Watches stream: pass each chunk on as it comes.
        res.flushHeaders();
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      this.logger.warn(`kumo proxy: the API server at ${this.upstream.origin} did not answer for the kubernetes Service: ${err.message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // As kube's proxies answer: a Kubernetes Status, so clients print its message.
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `error trying to reach the API server: ${err.message}`,
          reason: 'ServiceUnavailable',
          code: 503,
        }),
      );
    });
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
