/**
 * Settings the cloud functions read from their environment, in one place so
 * the API, controller and scheduler functions agree (e.g. on admission
 * defaults) and tests can shorten timings the same way a deployment would.
 * The variables (KUMO_DEFAULT_TOLERATION_SECONDS, KUMO_POD_SECURITY,
 * KUMO_NODE_GRACE_SECONDS, KUMO_JOB_BACKOFF_MS, KUMO_FLOW_BURST_MS) are
 * declared in lib/config/settings.ts. The stack sets stackPodSecurity() for
 * the API and the control loops alike (the controllers' pod creates are
 * admitted like anyone's).
 */
import { parsePodSecurityConfig, type PodSecurityConfig, type PodSecurityConfiguration } from '../apiserver/podsecurity/config.js';
import { userOf } from '../auth/users.js';
import type { FlowControlOptions } from '../apiserver/flow-control.js';
import type { ControlPlaneOptions } from '../assembly/control-plane.js';
import { ConfigError, type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';

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

export function admissionFromEnv(env: Env = process.env): {
  defaultTolerationSeconds?: number;
  podSecurity?: PodSecurityConfig;
  serviceClusterIPRange?: string;
} {
  const tolerationMs = readSetting(env, SETTINGS.defaultTolerationSeconds);
  const serviceClusterIPRange = readSetting(env, SETTINGS.serviceClusterIPRange);
  const document = readSetting(env, SETTINGS.podSecurity);
  let podSecurity: PodSecurityConfig | undefined;
  if (document !== undefined) {
    try {
      podSecurity = parsePodSecurityConfig(document);
    } catch (err) {
      throw new ConfigError(`${SETTINGS.podSecurity.env}: ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    ...(tolerationMs !== undefined ? { defaultTolerationSeconds: tolerationMs / 1000 } : {}),
    ...(podSecurity ? { podSecurity } : {}),
    ...(serviceClusterIPRange ? { serviceClusterIPRange } : {}),
  };
}

export function controlPlaneFromEnv(env: Env = process.env): ControlPlaneOptions {
  const gracePeriodMs = readSetting(env, SETTINGS.nodeGrace);
  const backoffBaseMs = readSetting(env, SETTINGS.jobBackoff);
  return {
    ...(gracePeriodMs !== undefined ? { nodeLifecycle: { gracePeriodMs } } : {}),
    ...(backoffBaseMs !== undefined ? { job: { backoffBaseMs } } : {}),
  };
}

export function flowControlFromEnv(env: Env = process.env): FlowControlOptions {
  const burstMs = readSetting(env, SETTINGS.flowBurst);
  return burstMs !== undefined ? { burstMs } : {};
}
