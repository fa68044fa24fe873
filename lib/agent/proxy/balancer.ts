/**
 * Which endpoint a new connection to a Service port goes to (pure logic,
 * after kube-proxy): ready endpoints, in round-robin order; when none is
 * ready, endpoints that are terminating but still serving (so a Service
 * being rolled keeps answering); never one that is neither. With
 * `sessionAffinity: ClientIP`, a client keeps its endpoint while that stays
 * a candidate and the affinity has not timed out.
 */
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';

export interface Backend {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** The endpoints of one Service port from its slices (by port name and protocol). */
export function backendsOf(slices: readonly EndpointSlice[], portName: string, protocol: string): Backend[] {
  const out: Backend[] = [];
  for (const s of slices) {
    if (s.addressType !== 'IPv4') continue;
    const port = (s.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const e of s.endpoints ?? []) {
      const c = e.conditions ?? {};
      // Unset conditions mean "unknown", which consumers read as ready/serving.
      const ready = c.ready !== false;
      out.push({ ip: e.addresses[0]!, port: port.port, ready, serving: c.serving ?? ready, terminating: !!c.terminating });
    }
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip, undefined, { numeric: true }) || a.port - b.port);
}

/** The endpoints a new connection may use, in the order to try them. */
export function candidates(backends: readonly Backend[]): Backend[] {
  const ready = backends.filter((b) => b.ready);
  if (ready.length > 0) return ready;
  return backends.filter((b) => b.serving && b.terminating);
}

function same(a: Backend, b: Backend): boolean {
  return a.ip === b.ip && a.port === b.port;
}

export class Balancer {
  private next = 0;
  private readonly affinity = new Map<string, { backend: Backend; until: number }>();

  /**
   * The endpoints to try for a connection from `clientIP`, first choice
   * first (the rest are fallbacks if it refuses). Empty: reject.
   */
  pick(backends: readonly Backend[], clientIP: string, sticky: { timeoutMs: number } | undefined, now: number): Backend[] {
    const list = candidates(backends);
    if (list.length === 0) return [];
    if (sticky) {
      const held = this.affinity.get(clientIP);
      if (held && held.until > now) {
        const i = list.findIndex((b) => same(b, held.backend));
        if (i >= 0) {
          held.until = now + sticky.timeoutMs;
          return [list[i]!, ...list.filter((_, j) => j !== i)];
        }
      }
    }
    const start = this.next % list.length;
    this.next = (start + 1) % Number.MAX_SAFE_INTEGER;
    const order = [...list.slice(start), ...list.slice(0, start)];
    if (sticky) this.affinity.set(clientIP, { backend: order[0]!, until: now + sticky.timeoutMs });
    return order;
  }

  /** A connection went to `backend` after its first choice failed: ClientIP affinity follows it. */
  settled(clientIP: string, backend: Backend, sticky: { timeoutMs: number } | undefined, now: number): void {
    if (sticky) this.affinity.set(clientIP, { backend, until: now + sticky.timeoutMs });
  }

  /** Drops expired affinities (called now and then). */
  sweep(now: number): void {
    for (const [ip, a] of this.affinity) if (a.until <= now) this.affinity.delete(ip);
  }
}
