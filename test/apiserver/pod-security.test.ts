/**
 * Pod Security Standards as pure logic: each check's reason and detail
 * (upstream's wording), which checks a level and version run, how
 * namespace labels and the cluster configuration are read.
 */
import { describe, expect, it } from 'vitest';
import type { PodSpec } from '#lib/api/core/v1/pod';
import { parsePodSecurityConfig, PodSecurityConfigError, PRIVILEGED } from '#lib/apiserver/podsecurity/config';
import { evaluatePod, NEWEST_MINOR, verdictOf } from '#lib/apiserver/podsecurity/evaluator';
import { LATEST, type LevelVersion, policyToEvaluate, versionOf } from '#lib/apiserver/podsecurity/levels';
import { admissionFromEnv, stackPodSecurity } from '#lib/cloud/config';

const baseline: LevelVersion = { level: 'baseline', version: LATEST };
const restricted: LevelVersion = { level: 'restricted', version: LATEST };

function verdict(lv: LevelVersion, spec: PodSpec, annotations: Record<string, string> = {}) {
  return verdictOf(evaluatePod(lv, { annotations, spec }));
}

const c = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox', ...extra });

/** A pod that meets Restricted at latest. */
const hardened: PodSpec = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [c('app', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } })],
};

describe('Baseline checks', () => {
  it.each<[string, PodSpec, Record<string, string>, string]>([
    [
      'host namespaces',
      { hostNetwork: true, hostPID: true, hostIPC: true, containers: [c('a')] },
      {},
      'host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)',
    ],
    [
      'privileged',
      { containers: [c('a', { securityContext: { privileged: true } }), c('b', { securityContext: { privileged: false } })] },
      {},
      'privileged (container "a" must not set securityContext.privileged=true)',
    ],
    [
      'capabilities',
      {
        containers: [
          c('a', { securityContext: { capabilities: { add: ['FOO', 'CHOWN'] } } }),
          c('b', { securityContext: { capabilities: { add: ['BAZ', 'BAR'] } } }),
        ],
      },
      {},
      'non-default capabilities (containers "a", "b" must not include "BAR", "BAZ", "FOO" in securityContext.capabilities.add)',
    ],
    [
      'hostPath',
      {
        volumes: [
          { name: 'a', hostPath: { path: '/' } },
          { name: 'b', hostPath: { path: '/etc' } },
        ],
        containers: [c('x')],
      },
      {},
      'hostPath volumes (volumes "a", "b")',
    ],
    [
      'hostPort',
      {
        containers: [
          c('a'),
          c('b', {
            ports: [
              { containerPort: 1, hostPort: 10 },
              { containerPort: 2, hostPort: 20 },
            ],
          }),
          c('c', { ports: [{ containerPort: 3, hostPort: 30 }] }),
        ],
      },
      {},
      'hostPort (containers "b", "c" use hostPorts 10, 20, 30)',
    ],
    [
      'probe host',
      {
        containers: [
          c('a', {
            livenessProbe: { httpGet: { port: 80, host: 'localhost' } },
            readinessProbe: { tcpSocket: { port: 80, host: '127.0.0.1' } },
            lifecycle: { preStop: { httpGet: { port: 80, host: '::1' } } },
          }),
        ],
      },
      {},
      'probe or lifecycle host (container "a" uses probe or lifecycle hosts "127.0.0.1", "::1", "localhost")',
    ],
    [
      'AppArmor',
      { securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [c('a')] },
      {},
      'forbidden AppArmor profile (pod must not set AppArmor profile type to "Unconfined")',
    ],
    [
      'AppArmor annotations',
      { containers: [c('a'), c('b')] },
      { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined', 'container.apparmor.security.beta.kubernetes.io/b': 'localhost/x' },
      // Upstream quotes the list without escaping the annotation's own quotes.
      'forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"")',
    ],
    [
      'SELinux',
      { securityContext: { seLinuxOptions: { type: 'spc_t' } }, containers: [c('a', { securityContext: { seLinuxOptions: { user: 'u', role: 'r' } } })] },
      {},
      'seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)',
    ],
    [
      'procMount',
      { containers: [c('a', { securityContext: { procMount: 'Unmasked' } })] },
      {},
      'procMount (container "a" must not set securityContext.procMount to "Unmasked")',
    ],
    [
      'seccomp',
      { securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [c('a')] },
      {},
      'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    ],
    [
      'sysctls',
      {
        securityContext: {
          sysctls: [
            { name: 'kernel.msgmax', value: '1' },
            { name: 'net.ipv4.tcp_rmem', value: '1' },
            { name: 'a.b', value: '2' },
          ],
        },
        containers: [c('a')],
      },
      {},
      'forbidden sysctls (kernel.msgmax, a.b)',
    ],
    [
      'hostProcess',
      { securityContext: { windowsOptions: { hostProcess: true } }, containers: [c('a')] },
      {},
      'hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)',
    ],
  ])('%s', (_name, spec, annotations, detail) => {
    const v = verdict(baseline, spec, annotations);
    expect(v.allowed).toBe(false);
    expect(v.detail).toBe(detail);
  });

  it('orders failures by check id and joins them as upstream does', () => {
    const v = verdict(baseline, { hostNetwork: true, containers: [c('c', { securityContext: { privileged: true } })] });
    expect(v).toEqual({
      allowed: false,
      reason: 'host namespaces, privileged',
      detail: 'host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)',
    });
  });

  it('lets a default pod through, and runs no check for privileged', () => {
    expect(verdict(baseline, { containers: [c('a')] }).allowed).toBe(true);
    expect(evaluatePod({ level: 'privileged', version: LATEST }, { annotations: {}, spec: { hostPID: true, containers: [c('a')] } })).toEqual([]);
  });

  it('runs each check as of the version asked for', () => {
    const probeHost: PodSpec = { containers: [c('a', { livenessProbe: { httpGet: { port: 80, host: 'h' } } })] };
    expect(verdict({ level: 'baseline', version: versionOf(33) }, probeHost).allowed).toBe(true);
    expect(verdict({ level: 'baseline', version: versionOf(34) }, probeHost).allowed).toBe(false);
    const rmem: PodSpec = { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '1' }] }, containers: [c('a')] };
    expect(verdict({ level: 'baseline', version: versionOf(31) }, rmem).allowed).toBe(false);
    expect(verdict({ level: 'baseline', version: versionOf(32) }, rmem).allowed).toBe(true);
    // A version past the newest check runs the newest.
    expect(NEWEST_MINOR).toBe(35);
    expect(verdict({ level: 'baseline', version: versionOf(99) }, probeHost).allowed).toBe(false);
    // 1.35 spares user-namespace pods at baseline, not at restricted.
    const unmasked: PodSpec = { hostUsers: false, containers: [c('a', { securityContext: { procMount: 'Unmasked' } })] };
    expect(verdict(baseline, unmasked).allowed).toBe(true);
    expect(verdict({ level: 'baseline', version: versionOf(34) }, unmasked).allowed).toBe(false);
  });
});

describe('Restricted checks', () => {
  it('passes a hardened pod and lists what a default pod lacks', () => {
    expect(verdict(restricted, hardened).allowed).toBe(true);
    expect(verdict(restricted, { containers: [c('c')] }).detail).toBe(
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });

  it('replaces the baseline checks it overrides, and runs the others', () => {
    const spec: PodSpec = {
      ...hardened,
      volumes: [{ name: 'v', hostPath: { path: '/' } }, { name: 'n', nfs: { server: 's', path: '/' } } as never],
      hostPID: true,
    };
    expect(verdict(restricted, spec).detail).toBe(
      'host namespaces (hostPID=true), restricted volume types (volumes "v", "n" use restricted volume types "hostPath", "nfs")',
    );
  });

  it('refuses root and explicit opt-outs', () => {
    const spec: PodSpec = {
      securityContext: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        c('a', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'NET_ADMIN'] }, runAsUser: 0 } }),
      ],
    };
    expect(verdict(restricted, spec).detail).toBe(
      'unrestricted capabilities (container "a" must not include "NET_ADMIN" in securityContext.capabilities.add), runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false), runAsUser=0 (pod and container "a" must not set runAsUser=0)',
    );
    // Windows pods (spec.os) are spared the Linux-only fields since 1.25.
    expect(verdict(restricted, { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [c('w')] }).allowed).toBe(true);
  });
});

describe('namespace labels', () => {
  const defaults = PRIVILEGED.defaults;

  it('reads levels and versions, and warns at a stricter enforce level without a warn label', () => {
    const { policy, errors } = policyToEvaluate(
      { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.30' },
      defaults,
    );
    expect(errors).toEqual([]);
    expect(policy.enforce).toEqual({ level: 'baseline', version: versionOf(30) });
    expect(policy.warn).toEqual({ level: 'baseline', version: versionOf(30) });
    expect(policy.audit.level).toBe('privileged');
  });

  it('reports bad labels, failing closed for enforce and open for warn and audit', () => {
    const { policy, errors } = policyToEvaluate(
      { 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn': 'loud', 'pod-security.kubernetes.io/audit-version': '1.30' },
      defaults,
    );
    expect(policy.enforce.level).toBe('restricted');
    expect(policy.warn.level).toBe('privileged');
    expect(errors).toEqual([
      {
        type: 'FieldValueInvalid',
        field: 'metadata.labels[pod-security.kubernetes.io/enforce]',
        message: 'Invalid value: "strict": must be one of privileged, baseline, restricted',
      },
      {
        type: 'FieldValueInvalid',
        field: 'metadata.labels[pod-security.kubernetes.io/audit-version]',
        message: 'Invalid value: "1.30": must be "latest" or "v1.x"',
      },
      {
        type: 'FieldValueInvalid',
        field: 'metadata.labels[pod-security.kubernetes.io/warn]',
        message: 'Invalid value: "loud": must be one of privileged, baseline, restricted',
      },
    ]);
  });
});

describe('the cluster configuration', () => {
  it('reads a PodSecurityConfiguration bare or inside an AdmissionConfiguration, defaulting to privileged and latest', () => {
    const config = {
      apiVersion: 'pod-security.admission.config.k8s.io/v1',
      kind: 'PodSecurityConfiguration',
      defaults: { enforce: 'baseline', warn: 'restricted', 'warn-version': 'v1.34' },
      exemptions: { usernames: ['kumo:token:admin'] },
    };
    const expected = {
      defaults: {
        enforce: { level: 'baseline', version: LATEST },
        warn: { level: 'restricted', version: versionOf(34) },
        audit: { level: 'privileged', version: LATEST },
      },
      exemptions: { usernames: ['kumo:token:admin'], namespaces: [], runtimeClasses: [] },
    };
    expect(parsePodSecurityConfig(config)).toEqual(expected);
    expect(
      parsePodSecurityConfig({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'AdmissionConfiguration',
        plugins: [{ name: 'PodSecurity', configuration: config }],
      }),
    ).toEqual(expected);
    expect(parsePodSecurityConfig({ kind: 'AdmissionConfiguration', plugins: [] })).toEqual(PRIVILEGED);
  });

  it('refuses bad levels, duplicate exemptions and unknown fields, naming each', () => {
    expect(() => parsePodSecurityConfig({ defaults: { enforce: 'strict' }, exemptions: { namespaces: ['a', 'a', 'B'], usernames: [''] } })).toThrow(
      new PodSecurityConfigError(
        'invalid PodSecurityConfiguration: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted, exemptions.namespaces[1]: Duplicate value: "a", exemptions.namespaces[2]: Invalid value: "B": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\'), exemptions.usernames[0]: Invalid value: "": username must not be empty',
      ),
    );
    expect(() => parsePodSecurityConfig({ defaults: { enforced: 'baseline' } })).toThrow(PodSecurityConfigError);
  });

  it('comes to the cloud functions as JSON in KUMO_POD_SECURITY, and a bad one stops them', () => {
    expect(admissionFromEnv({}).podSecurity).toBeUndefined();
    const stack = admissionFromEnv({ KUMO_POD_SECURITY: JSON.stringify(stackPodSecurity('admin')) }).podSecurity!;
    expect(stack.defaults.enforce.level).toBe('baseline');
    expect(stack.exemptions.usernames).toEqual(['kumo:token:admin']);
    expect(() => admissionFromEnv({ KUMO_POD_SECURITY: '{enforce' })).toThrow(
      /^KUMO_POD_SECURITY must be a PodSecurityConfiguration in JSON \(.+\), got "{enforce"$/,
    );
    // The configuration's own error, named after the variable as every bad setting is (lib/config).
    expect(() => admissionFromEnv({ KUMO_POD_SECURITY: '{"defaults":{"enforce":"strict"}}' })).toThrow(
      'KUMO_POD_SECURITY: invalid PodSecurityConfiguration: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
  });
});
