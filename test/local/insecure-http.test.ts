/**
 * `kumo up --insecure-http`: plain HTTP without authentication, so only
 * programs on this machine may use it. A request must name a loopback Host
 * (as `kubectl proxy` accepts by default) and must not come from a web page
 * (an Origin other than the server's own, or a cross-site Sec-Fetch-Site);
 * a refusal is a 403 Status and nothing is stored. This is the cross-site
 * "simple" POST of issue 12, which used to create a pod.
 */
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '#lib/local/cluster';
import { startCluster } from '../helpers/cluster.js';
import { PODS } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';

let cluster: Awaited<ReturnType<typeof startCluster>>;
let port: number;

beforeAll(async () => {
  cluster = await startCluster({ controllers: false });
  port = Number(new URL(cluster.url).port);
});

afterAll(async () => {
  await cluster?.dispose();
});

interface Reply {
  status: number;
  body: { kind?: string; reason?: string; message?: string; code?: number; details?: object };
}

/** One raw HTTP request to the cluster's port, with whatever headers a browser or an attacker would send. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Reply['body']) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const POD = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'from-a-web-page' },
  spec: { containers: [{ name: 'c', image: 'x', command: ['touch', '/tmp/pwned'] }] },
});
const CREATE = '/api/v1/namespaces/default/pods';

describe('kumo up --insecure-http', () => {
  it("refuses a web page's cross-site POST with a 403 Status and stores nothing", async () => {
    const host = `127.0.0.1:${port}`;
    const reply = await send('POST', CREATE, { host, origin: 'https://evil.example', 'content-type': 'text/plain' }, POD);
    expect(reply).toEqual({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'forbidden: cross-origin request from "https://evil.example" refused: an API server on plain HTTP (kumo up --insecure-http) takes no requests from web pages',
        reason: 'Forbidden',
        details: {},
        code: 403,
      },
    });
    // Other pages are refused alike: another local origin, a sandboxed frame or file: page (`null`), and a
    // cross-site request that carries no Origin but the browser's Sec-Fetch-Site mark.
    const pages: Record<string, string>[] = [
      { origin: 'http://localhost:3000' },
      { origin: 'null' },
      { origin: `https://${host}` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of pages) {
      const r = await send('POST', CREATE, { host, 'content-type': 'application/json', ...headers }, POD);
      expect({ headers, status: r.status, reason: r.body.reason }).toEqual({ headers, status: 403, reason: 'Forbidden' });
    }
    expect(await cluster.client.find(PODS, 'default', 'from-a-web-page')).toBeUndefined();
  });

  it('answers only requests for a loopback host name (DNS rebinding gets a 403)', async () => {
    const rebound = await send('POST', CREATE, { host: `evil.example:${port}`, 'content-type': 'application/json' }, POD);
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatchObject({
      reason: 'Forbidden',
      message: `forbidden: Host "evil.example:${port}" is not a loopback name: an API server on plain HTTP (kumo up --insecure-http) answers only requests for localhost, 127.0.0.1 or [::1]`,
    });
    for (const host of ['127.0.0.1.evil.example', 'localhost.', 'user@127.0.0.1', '127.0.0.1:6443@evil.example']) {
      expect({ host, status: (await send('GET', '/api/v1/namespaces', { host })).status }).toEqual({ host, status: 403 });
    }
    expect(await cluster.client.find(PODS, 'default', 'from-a-web-page')).toBeUndefined();

    // kubectl proxy's accepted hosts, any port, and the server's own origin.
    const accepted: Record<string, string>[] = [
      { host: `localhost:${port}` },
      { host: 'LOCALHOST' },
      { host: `[::1]:${port}` },
      { host: '127.0.0.1' },
      { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of accepted) {
      expect({ headers, status: (await send('GET', '/api/v1/namespaces', headers)).status }).toEqual({ headers, status: 200 });
    }
  });

  it('refuses a WebSocket exec from a web page before it reaches the pod', async () => {
    const url = `ws://127.0.0.1:${port}/api/v1/namespaces/default/pods/nobody/exec?command=sh&stdout=true`;
    const open = (origin?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(url, ['v5.channel.k8s.io'], origin ? { origin } : {});
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('the upgrade was accepted')));
        ws.on('error', () => undefined);
      });
    const fromPage = await open('https://evil.example');
    expect(fromPage.status).toBe(403);
    expect(JSON.parse(fromPage.body)).toMatchObject({
      reason: 'Forbidden',
      message: expect.stringContaining('cross-origin request from "https://evil.example" refused'),
    });
    // Without an Origin the same upgrade reaches the API, which looks for the pod.
    const fromTool = await open();
    expect({ status: fromTool.status, reason: (JSON.parse(fromTool.body) as Reply['body']).reason }).toEqual({ status: 404, reason: 'NotFound' });
  });

  it('listens on a loopback address only', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'kumo-insecure-')), 'data');
    try {
      expect(() => new LocalCluster({ dataDir, insecureHttp: true, host: '0.0.0.0', logger: silentLogger })).toThrow(
        'plain HTTP has no authentication, so it listens on a loopback address only, not 0.0.0.0',
      );
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });
});
