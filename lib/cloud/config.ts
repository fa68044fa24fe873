/**
 * Settings the cloud functions read from their environment, in one place so
 * the API, controller and scheduler functions agree (e.g. on admission
 * defaults) and tests can shorten timings the same way a deployment would.
 *
 * - KUMO_DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds admission (300)
 * - KUMO_NODE_GRACE_SECONDS: lease age before a node is unreachable (40)
 * - KUMO_JOB_BACKOFF_MS: first delay before re-creating failed Job pods (10000)
 * - KUMO_FLOW_BURST_MS: API time a caller may use at once before flow
 *   control holds it to its share (5000; lib/apiserver/flow-control.ts)
 */
import type { FlowControlOptions } from '../apiserver/flow-control.js';
import type { ControlPlaneOptions } from '../controllers/index.js';

type Env = Readonly<Record<string, string | undefined>>;

function numberFrom(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return v;
}

export function admissionFromEnv(env: Env = process.env): { defaultTolerationSeconds?: number } {
  const seconds = numberFrom(env, 'KUMO_DEFAULT_TOLERATION_SECONDS');
  return seconds !== undefined ? { defaultTolerationSeconds: seconds } : {};
}

export function controlPlaneFromEnv(env: Env = process.env): ControlPlaneOptions {
  const grace = numberFrom(env, 'KUMO_NODE_GRACE_SECONDS');
  const backoff = numberFrom(env, 'KUMO_JOB_BACKOFF_MS');
  return {
    ...(grace !== undefined ? { nodeLifecycle: { gracePeriodMs: grace * 1000 } } : {}),
    ...(backoff !== undefined ? { job: { backoffBaseMs: backoff } } : {}),
  };
}

export function flowControlFromEnv(env: Env = process.env): FlowControlOptions {
  const burst = numberFrom(env, 'KUMO_FLOW_BURST_MS');
  return burst !== undefined ? { burstMs: burst } : {};
}
