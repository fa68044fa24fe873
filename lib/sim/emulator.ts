/**
 * The AWS API emulator (moto) for the tests and benchmarks that need
 * DynamoDB: `startEmulator()` starts `moto_server` on a free loopback port
 * behind a serializing proxy and points the SDK's standard configuration
 * (AWS_ENDPOINT_URL, dummy credentials) at it, so code under test builds its
 * clients exactly as it would in production. test/helpers/moto.ts adds the
 * tests' skip-or-fail policy on top.
 *
 * moto serves requests on threads and does not lock around a conditional
 * write's check and apply (moto 5: two racing TransactWriteItems on one item
 * can both succeed). DynamoDB itself is atomic, so the helper puts a small
 * proxy in front of moto that hands it one request at a time; otherwise the
 * store's race tests would fail on moto's bug rather than on ours.
 *
 * moto also snapshots a table (deep copy) on every TransactWriteItems, to
 * roll back on failure. moto_server is started with lib/sim/moto-stream-patch.ts,
 * so the snapshot no longer copies the table's stream (and a cancelled
 * transaction leaves no phantom records on it); it still copies the table's
 * items, so transactions slow down with what that table stores, not with
 * other tables: use a fresh table per test scenario or benchmark.
 *
 * An observer given to startEmulator() sees every request and answer that
 * passes the proxy (the benchmarks count DynamoDB request units from them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { motoStreamPatch } from './moto-stream-patch.js';

export interface Emulator {
  /** The endpoint the SDK is configured with (AWS_ENDPOINT_URL). */
  endpoint: string;
  /** Requests seen per API operation (X-Amz-Target), when kumo started the emulator. */
  calls: Map<string, number>;
  stop(): Promise<void>;
}

/** Sees every request the proxy forwards, with its answer (the benchmarks' capacity meter). */
export type ExchangeObserver = (exchange: { target: string; request: Buffer; status: number; response: Buffer; ms: number }) => void;

const DUMMY_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
};

/** Sets dummy credentials and region where none are configured; returns a function restoring the environment. */
export function configureEnv(extra: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  const set = (k: string, v: string) => {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  };
  for (const [k, v] of Object.entries(DUMMY_ENV)) if (!process.env[k]) set(k, v);
  for (const [k, v] of Object.entries(extra)) set(k, v);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port nothing listens on at the moment (on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startMoto(binary: string): Promise<{ child: ChildProcess; port: number }> {
  let lastError = '';
  const patch = motoStreamPatch();
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: patch.env });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await answers(`http://127.0.0.1:${port}/moto-api/`)) {
        // Python imported the patch when it started: its file is no longer needed.
        patch.remove();
        return { child, port };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastError = stderr;
    await stopProcess(child);
  }
  patch.remove();
  throw new Error(`moto_server did not start: ${lastError.trim().split('\n').slice(-3).join(' | ')}`);
}

/** A loopback proxy that forwards requests to `target` one at a time, in arrival order. */
async function serialProxy(targetPort: number, calls: Map<string, number>, observe?: ExchangeObserver): Promise<{ port: number; close(): Promise<void> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let queue: Promise<void> = Promise.resolve();
  const forward = (method: string, path: string, headers: http.IncomingHttpHeaders, body: Buffer, res: http.ServerResponse) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const upstream = http.request({ host: '127.0.0.1', port: targetPort, method, path, headers, agent }, (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const response = Buffer.concat(chunks);
          if (observe) {
            try {
              observe({
                target: String(headers['x-amz-target'] ?? method),
                request: body,
                status: up.statusCode ?? 0,
                response,
                ms: performance.now() - started,
              });
            } catch {
              // an observer must not break the emulator
            }
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(response);
          resolve();
        });
        up.on('error', () => resolve());
      });
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(err));
        resolve();
      });
      upstream.end(body);
    });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? req.method)
        .split('.')
        .pop()!;
      calls.set(op, (calls.get(op) ?? 0) + 1);
      queue = queue.then(() => forward(req.method ?? 'GET', req.url ?? '/', req.headers, body, res));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

/**
 * Starts moto_server (from the PATH) behind a serializing proxy and points
 * the SDK's environment at it. `stop()` restores the environment and ends the
 * server. Throws when moto_server is not on the PATH.
 */
export async function startEmulator(opts: { observe?: ExchangeObserver } = {}): Promise<Emulator> {
  const binary = onPath('moto_server');
  if (!binary) throw new Error('moto_server is not on the PATH (pip install "moto[server]")');
  const moto = await startMoto(binary);
  // If the process dies without stop(), moto must not outlive it.
  const reap = () => moto.child.kill('SIGKILL');
  process.once('exit', reap);
  const calls = new Map<string, number>();
  const proxy = await serialProxy(moto.port, calls, opts.observe);
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const restore = configureEnv({ AWS_ENDPOINT_URL: endpoint });
  return {
    endpoint,
    calls,
    async stop() {
      restore();
      await proxy.close();
      await stopProcess(moto.child);
      process.off('exit', reap);
    },
  };
}
