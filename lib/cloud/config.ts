/**
 * Settings the cloud functions read from their environment, in one place so
 * the API, controller and scheduler functions agree (e.g. on admission
 * defaults) and tests can shorten timings the same way a deployment would.
 *
 * - KUMO_DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds admission (300)
 * - KUMO_POD_SECURITY: Pod Security Admission's defaults and exemptions, a
 *   PodSecurityConfiguration (or AdmissionConfiguration) in JSON; unset:
 *   upstream's default, everything privileged. The stack sets
 *   stackPodSecurity() for the API and the control loops alike (the
 *   controllers' pod creates are admitted like anyone's).
 * - KUMO_NODE_GRACE_SECONDS: lease age before a node is unreachable (40)
 * - KUMO_JOB_BACKOFF_MS: first delay before re-creating failed Job pods (10000)
 * - KUMO_FLOW_BURST_MS: API time a caller may use at once before flow
 *   control holds it to its share (5000; lib/apiserver/flow-control.ts)
 */
import { parsePodSecurityConfig, type PodSecurityConfig, type PodSecurityConfiguration } from '../apiserver/podsecurity/config.js';
import { userOf } from '../auth/users.js';
import type { FlowControlOptions } from '../apiserver/flow-control.js';
import type { ControlPlaneOptions } from '../assembly/control-plane.js';

type Env = Readonly<Record<string, string | undefined>>;

function numberFrom(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return v;
}

/**
 * The cloud stack's Pod Security defaults: enforce baseline (no privileged,
 * host-namespace or hostPath pods, which would make a namespace admin root
 * on a node), warn at restricted, and the deploy-time admin token's user
 * exempt (exemptions name users, as upstream's do: the controllers' own pod
 * creates stay checked). Namespaces loosen or tighten it with labels.
 */
export function stackPodSecurity(adminTokenId: string): PodSecurityConfiguration {
  return {
    apiVersion: 'pod-security.admission.config.k8s.io/v1',
    kind: 'PodSecurityConfiguration',
    defaults: {
      enforce: 'baseline',
      'enforce-version': 'latest',
      warn: 'restricted',
      'warn-version': 'latest',
      audit: 'privileged',
      'audit-version': 'latest',
    },
    exemptions: { usernames: [userOf(adminTokenId, { role: 'admin' }).name], namespaces: [], runtimeClasses: [] },
  };
}

export function admissionFromEnv(env: Env = process.env): { defaultTolerationSeconds?: number; podSecurity?: PodSecurityConfig } {
  const seconds = numberFrom(env, 'KUMO_DEFAULT_TOLERATION_SECONDS');
  const raw = env.KUMO_POD_SECURITY;
  let podSecurity: PodSecurityConfig | undefined;
  if (raw !== undefined && raw !== '') {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new Error(`KUMO_POD_SECURITY must be a PodSecurityConfiguration in JSON: ${(err as Error).message}`, { cause: err });
    }
    podSecurity = parsePodSecurityConfig(value);
  }
  return { ...(seconds !== undefined ? { defaultTolerationSeconds: seconds } : {}), ...(podSecurity ? { podSecurity } : {}) };
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
