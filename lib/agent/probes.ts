/**
 * Container probes as the kubelet runs them: one timer loop per probe of a
 * running container instance. The startup probe gates the others; liveness
 * and startup failures past their thresholds ask the pod worker to kill the
 * container; readiness flips the container's `ready` without a restart.
 * Handlers: httpGet (path, port by number or name, host, scheme, headers;
 * 2xx and 3xx succeed), tcpSocket (a connection succeeds) and exec (exit 0
 * succeeds). Results are reported through callbacks; the prober never writes
 * to the API itself.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, Probe } from '../api/core/v1/pod.js';
import type { Runtime } from './runtime.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

const KIND_TITLE: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };

/** A port given by number, numeric string or the name of one of the container's ports. */
export function resolvePort(port: string | number, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return (container.ports ?? []).find((p) => p.name === port)?.containerPort;
}

/** Runs one probe (or lifecycle handler) once. */
export async function runHandler(
  handler: Pick<Probe, 'httpGet' | 'tcpSocket' | 'exec'>,
  target: { podIP: string; containerId: string; container: Container; runtime: Runtime },
  timeoutMs: number,
): Promise<ProbeResult> {
  if (handler.exec) {
    const command = handler.exec.command ?? [];
    let output = '';
    try {
      const code = await target.runtime.exec(
        target.containerId,
        command,
        { tty: false, stdin: false, timeoutMs },
        { stdout: (c) => (output += Buffer.from(c).toString('utf8')), stderr: (c) => (output += Buffer.from(c).toString('utf8')) },
      );
      const out = output.trim().slice(0, 1024);
      return code === 0 ? { ok: true, message: out } : { ok: false, message: out || `command ${JSON.stringify(command.join(' '))} exited with ${code}` };
    } catch (err) {
      return { ok: false, message: `command ${JSON.stringify(command.join(' '))} failed: ${(err as Error).message}` };
    }
  }
  if (handler.httpGet) {
    const h = handler.httpGet;
    const port = resolvePort(h.port, target.container);
    if (port === undefined) return { ok: false, message: `port ${String(h.port)} is not a port of container ${target.container.name}` };
    const host = h.host || target.podIP;
    const scheme = (h.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'https' : 'http';
    let path = h.path ?? '/';
    if (!path.startsWith('/')) path = `/${path}`;
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.35', accept: '*/*' };
    for (const x of h.httpHeaders ?? []) headers[x.name.toLowerCase()] = x.value;
    if (headers.host === undefined) delete headers.host;
    return new Promise((resolve) => {
      const fn = scheme === 'https' ? httpsRequest : httpRequest;
      const req = fn(url, { method: 'GET', headers, timeout: timeoutMs, ...(scheme === 'https' ? { rejectUnauthorized: false } : {}) }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        res.on('end', () =>
          resolve(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` }),
        );
        res.on('error', () => resolve({ ok: false, message: `HTTP probe failed with statuscode: ${code}` }));
      });
      req.on('timeout', () => req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ ok: false, message: `Get "${url}": ${err.code === 'ECONNREFUSED' ? `dial tcp ${host}:${port}: connect: connection refused` : err.message}` }),
      );
      req.end();
    });
  }
  if (handler.tcpSocket) {
    const t = handler.tcpSocket;
    const port = resolvePort(t.port, target.container);
    if (port === undefined) return { ok: false, message: `port ${String(t.port)} is not a port of container ${target.container.name}` };
    const host = t.host || target.podIP;
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ ok: true, message: '' });
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
      });
      socket.once('error', (err: NodeJS.ErrnoException) =>
        resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message}` }),
      );
    });
  }
  return { ok: false, message: 'probe has no handler' };
}

export interface ProberOptions {
  container: Container;
  containerId: string;
  podIP: string;
  runtime: Runtime;
  /** When the container started (ms since the epoch); initial delays count from here. */
  startedAtMs: number;
  /** State carried over from the API after an agent restart, so a running pod does not flap. */
  initial?: { started?: boolean; ready?: boolean };
  /** Something the pod's status shows changed (started, ready, or a kill is due). */
  onChange: () => void;
  /** A probe attempt failed (for the Unhealthy event). */
  onFailure: (kind: ProbeKind, message: string) => void;
}

/** The probes of one running container instance. */
export class ContainerProber {
  started: boolean;
  ready: boolean;
  /** Set when liveness or startup failed past its threshold: the container must be killed. */
  failed: { kind: 'liveness' | 'startup'; message: string } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly opts: ProberOptions) {
    const c = opts.container;
    this.started = c.startupProbe ? (opts.initial?.started ?? false) : true;
    this.ready = c.readinessProbe ? (opts.initial?.ready ?? false) : true;
  }

  get hasReadiness(): boolean {
    return !!this.opts.container.readinessProbe;
  }

  start(): void {
    const c = this.opts.container;
    if (c.startupProbe && !this.started) this.loop('startup', c.startupProbe);
    else this.startMain();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private startMain(): void {
    const c = this.opts.container;
    if (c.livenessProbe) this.loop('liveness', c.livenessProbe);
    if (c.readinessProbe) this.loop('readiness', c.readinessProbe);
  }

  private after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (!this.stopped) fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    this.timers.add(t);
  }

  private loop(kind: ProbeKind, probe: Probe): void {
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const timeout = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
    const successThreshold = kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1;
    const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
    let successes = 0;
    let failures = 0;
    const firstAt = this.opts.startedAtMs + (probe.initialDelaySeconds ?? 0) * 1000;
    const tick = async () => {
      const result = await runHandler(
        probe,
        { podIP: this.opts.podIP, containerId: this.opts.containerId, container: this.opts.container, runtime: this.opts.runtime },
        timeout,
      );
      if (this.stopped) return;
      if (result.ok) {
        failures = 0;
        successes++;
        if (successes >= successThreshold) this.succeeded(kind);
      } else {
        successes = 0;
        failures++;
        this.opts.onFailure(kind, `${KIND_TITLE[kind]} probe failed: ${result.message}`);
        if (failures >= failureThreshold) this.failedPast(kind, result.message);
      }
      // Startup stops probing once it succeeded; a failed liveness or startup stops everything.
      if (kind === 'startup' && this.started) return;
      if (this.failed) return;
      this.after(period, () => void tick());
    };
    this.after(firstAt - Date.now(), () => void tick());
  }

  private succeeded(kind: ProbeKind): void {
    if (kind === 'startup' && !this.started) {
      this.started = true;
      this.opts.onChange();
      this.startMain();
    } else if (kind === 'readiness' && !this.ready) {
      this.ready = true;
      this.opts.onChange();
    }
  }

  private failedPast(kind: ProbeKind, message: string): void {
    if (kind === 'readiness') {
      if (this.ready) {
        this.ready = false;
        this.opts.onChange();
      }
      return;
    }
    this.failed = { kind, message };
    this.stop();
    this.opts.onChange();
  }
}
