/**
 * A loopback proxy in front of the AWS API emulator that makes DynamoDB
 * misbehave the ways it does under load, which moto never does: requests
 * refused with throttling errors (ProvisionedThroughputExceededException or
 * ThrottlingException, HTTP 400, before anything is applied), and write
 * transactions that are applied but whose response is lost (an HTTP 500
 * InternalServerError after the emulator committed), so the SDK retries a
 * transaction that already happened. Other services pass untouched. With no
 * faults it is a window on what reaches the emulator (`observe`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Faults {
  /** Probability a DynamoDB request is refused for throttling. */
  throttle: number;
  /** Probability a TransactWriteItems is applied but answered with a 500. */
  lostResponse: number;
}

const PREFIX = 'DynamoDB_20120810.';

export class ChaosProxy {
  faults: Faults = { throttle: 0, lostResponse: 0 };
  /** Faults for the next requests of given operations, in order; the first entry naming a request's operation is used up by it. */
  script: { op: string; fault: 'throttle' | 'lose' }[] = [];
  readonly counts = { forwarded: 0, throttled: 0, lost: 0 };
  /** Sees every DynamoDB request before it is answered: its operation and body. */
  observe: ((op: string, body: Buffer) => void) | undefined;
  private server: http.Server | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly target: string,
    private readonly random: () => number = Math.random,
  ) {}

  async start(): Promise<string> {
    const upstream = new URL(this.target);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const target = String(req.headers['x-amz-target'] ?? '');
        const op = target.startsWith(PREFIX) ? target.slice(PREFIX.length) : undefined;
        const at = op ? this.script.findIndex((f) => f.op === op) : -1;
        const scripted = at >= 0 ? this.script.splice(at, 1)[0]!.fault : undefined;
        if (op) this.observe?.(op, body);
        if (op && (scripted === 'throttle' || (scripted === undefined && this.random() < this.faults.throttle))) {
          this.counts.throttled++;
          const type = this.random() < 0.5 ? 'ProvisionedThroughputExceededException' : 'ThrottlingException';
          const payload = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'Rate of requests exceeds the allowed throughput.' });
          res.writeHead(400, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-requestid': `chaos-${Date.now()}`,
            'content-length': Buffer.byteLength(payload),
          });
          res.end(payload);
          return;
        }
        const lose = scripted === 'lose' || (scripted === undefined && op === 'TransactWriteItems' && this.random() < this.faults.lostResponse);
        this.counts.forwarded++;
        const up = http.request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on('data', (c: Buffer) => parts.push(c));
            answer.on('end', () => {
              if (lose) {
                // Applied upstream; the client only learns that something went wrong.
                this.counts.lost++;
                const payload = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' });
                res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(payload) });
                res.end(payload);
                return;
              }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(parts));
            });
          },
        );
        up.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502);
          res.end(String(err));
        });
        up.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.agent.destroy();
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
