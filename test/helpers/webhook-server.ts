/**
 * A real HTTPS admission webhook for tests: Node's https server on loopback
 * with a CA and certificate made for the test (for 127.0.0.1 and the
 * Service names given), answering AdmissionReview v1 by path:
 *
 * - /deny: refuses objects (or, on DELETE, old objects) named `bad-*` (403, a message), allows the rest
 * - /label: adds the label `webhook.example.com/mutated: "yes"` (JSONPatch)
 * - /warn: allows with the warning `be careful`
 * - /slow: answers after 3 s (past a 1 s timeoutSeconds)
 * - /garbage: answers 200 with a body that is not JSON
 * - /convert: a CRD conversion webhook (ConversionReview v1): each object
 *   gets the desired apiVersion and the label
 *   `webhook.example.com/converted: <version>`
 *
 * Every review received is kept in `reviews` (by path).
 */
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { localTls } from '#lib/local/tls';

export interface WebhookServer {
  port: number;
  /** base64 of the CA's PEM, for clientConfig.caBundle. */
  caBundle: string;
  url(path: string): string;
  reviews: Map<string, Record<string, unknown>[]>;
  close(): Promise<void>;
}

interface Meta {
  metadata?: { name?: string; labels?: Record<string, string> };
}

interface Review {
  request: { uid: string; object?: Meta | null; oldObject?: Meta | null; desiredAPIVersion?: string; objects?: Meta[] };
}

function respond(uid: string, extra: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, ...extra } });
}

export async function startWebhookServer(names: readonly string[] = []): Promise<WebhookServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-webhook-'));
  const tls = localTls(dir, ['127.0.0.1', ...names]);
  const reviews = new Map<string, Record<string, unknown>[]>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      const review = JSON.parse(body) as Review;
      reviews.set(path, [...(reviews.get(path) ?? []), review as unknown as Record<string, unknown>]);
      const uid = review.request.uid;
      const obj = review.request.object;
      res.setHeader('content-type', 'application/json');
      switch (path) {
        case '/deny':
          if ((obj ?? review.request.oldObject)?.metadata?.name?.startsWith('bad-')) {
            res.end(respond(uid, { allowed: false, status: { code: 403, message: 'objects named bad-* are not allowed' } }));
          } else res.end(respond(uid, {}));
          return;
        case '/label': {
          const ops = obj?.metadata?.labels
            ? [{ op: 'add', path: '/metadata/labels/webhook.example.com~1mutated', value: 'yes' }]
            : [{ op: 'add', path: '/metadata/labels', value: { 'webhook.example.com/mutated': 'yes' } }];
          res.end(respond(uid, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') }));
          return;
        }
        case '/warn':
          res.end(respond(uid, { warnings: ['be careful'] }));
          return;
        case '/slow': {
          const t = setTimeout(() => {
            timers.delete(t);
            res.end(respond(uid, {}));
          }, 3000);
          timers.add(t);
          return;
        }
        case '/convert': {
          const to = review.request.desiredAPIVersion ?? '';
          const convertedObjects = (review.request.objects ?? []).map((o) => ({
            ...o,
            apiVersion: to,
            metadata: { ...o.metadata, labels: { ...o.metadata?.labels, 'webhook.example.com/converted': to.split('/').pop() } },
          }));
          res.end(
            JSON.stringify({
              apiVersion: 'apiextensions.k8s.io/v1',
              kind: 'ConversionReview',
              response: { uid, result: { status: 'Success' }, convertedObjects },
            }),
          );
          return;
        }
        case '/garbage':
          res.end('this is not an AdmissionReview');
          return;
        default:
          res.statusCode = 404;
          res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    caBundle: Buffer.from(tls.caPem).toString('base64'),
    url: (path) => `https://127.0.0.1:${port}${path}`,
    reviews,
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
