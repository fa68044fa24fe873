/**
 * The Baseline level's checks (pod-security-admission/policy, v0.35), each
 * with upstream's versions, reasons and messages: what a pod may not do
 * because it would escape its container onto the node.
 */
import type { LifecycleHandler, Probe } from '../../api/core/v1/pod.js';
import {
  ALLOWED,
  type Check,
  type CheckPod,
  containersOf,
  containersPhrase,
  forbiddenProfiles,
  inUserNamespace,
  isSet,
  joinQuote,
  pluralize,
  sortedSet,
} from './check.js';

const hostNamespaces: CheckPod = ({ spec }) => {
  const used = [spec.hostNetwork && 'hostNetwork=true', spec.hostPID && 'hostPID=true', spec.hostIPC && 'hostIPC=true'].filter((s): s is string => !!s);
  return used.length > 0 ? { allowed: false, reason: 'host namespaces', detail: used.join(', ') } : ALLOWED;
};

const privileged: CheckPod = ({ spec }) => {
  const bad = containersOf(spec)
    .filter((c) => c.securityContext?.privileged === true)
    .map((c) => c.name);
  return bad.length > 0 ? { allowed: false, reason: 'privileged', detail: `${containersPhrase(bad)} must not set securityContext.privileged=true` } : ALLOWED;
};

const DEFAULT_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

export const CAPABILITIES_BASELINE = 'capabilities_baseline';

const capabilitiesBaseline: CheckPod = ({ spec }) => {
  const bad: string[] = [];
  const added: string[] = [];
  for (const c of containersOf(spec)) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !DEFAULT_CAPABILITIES.has(cap));
    if (extra.length > 0) {
      bad.push(c.name);
      added.push(...extra);
    }
  }
  return bad.length > 0
    ? {
        allowed: false,
        reason: 'non-default capabilities',
        detail: `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(added))} in securityContext.capabilities.add`,
      }
    : ALLOWED;
};

export const HOST_PATH_VOLUMES = 'hostPathVolumes';

const hostPathVolumes: CheckPod = ({ spec }) => {
  const bad = (spec.volumes ?? []).filter((v) => isSet(v.hostPath)).map((v) => v.name);
  return bad.length > 0 ? { allowed: false, reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)}` } : ALLOWED;
};

const hostPorts: CheckPod = ({ spec }) => {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of containersOf(spec)) {
    const used = (c.ports ?? []).filter((p) => isSet(p.hostPort) && p.hostPort !== 0).map((p) => String(p.hostPort));
    if (used.length > 0) {
      bad.push(c.name);
      ports.push(...used);
    }
  }
  const list = sortedSet(ports);
  return bad.length > 0
    ? {
        allowed: false,
        reason: 'hostPort',
        detail: `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
      }
    : ALLOWED;
};

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const appArmorProfile: CheckPod = ({ annotations, spec }) => {
  const { setters, types } = forbiddenProfiles(spec, 'appArmorProfile', (t) => t === 'RuntimeDefault' || t === 'Localhost');
  const forbidden = Object.entries(annotations)
    .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !(v === '' || v === 'runtime/default' || v.startsWith('localhost/')))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .sort();
  if (forbidden.length > 0) setters.push(pluralize('annotation', 'annotations', forbidden.length));
  const list = [...types, ...forbidden];
  return setters.length > 0
    ? {
        allowed: false,
        reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', list.length),
        detail: `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(list)}`,
      }
    : ALLOWED;
};

const SELINUX_TYPES_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
const SELINUX_TYPES_1_31 = [...SELINUX_TYPES_1_0, 'container_engine_t'];

function seLinuxOptions(allowedTypes: readonly string[]): CheckPod {
  return ({ spec }) => {
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (o: { type?: string | null; user?: string | null; role?: string | null }) => {
      let ok = true;
      if (!allowedTypes.includes(o.type ?? '')) {
        ok = false;
        badTypes.push(o.type ?? '');
      }
      if (o.user) [ok, setUser] = [false, true];
      if (o.role) [ok, setRole] = [false, true];
      return ok;
    };
    const setters: string[] = [];
    const podOptions = spec.securityContext?.seLinuxOptions;
    if (isSet(podOptions) && !valid(podOptions)) setters.push('pod');
    const bad: string[] = [];
    for (const c of containersOf(spec)) {
      const options = c.securityContext?.seLinuxOptions;
      if (isSet(options) && !valid(options)) bad.push(c.name);
    }
    if (bad.length > 0) setters.push(containersPhrase(bad));
    if (setters.length === 0) return ALLOWED;
    const types = sortedSet(badTypes);
    const data = [
      ...(types.length > 0 ? [`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`] : []),
      ...(setUser ? ['user may not be set'] : []),
      ...(setRole ? ['role may not be set'] : []),
    ];
    return { allowed: false, reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
  };
}

export const PROC_MOUNT = 'procMount';

/** procMount 1.0: anything but Default is forbidden. Also the restricted level's check from 1.35. */
export const procMountDefaultOnly: CheckPod = ({ spec }) => {
  const bad: string[] = [];
  const types: string[] = [];
  for (const c of containersOf(spec)) {
    const pm = c.securityContext?.procMount;
    if (isSet(pm) && pm !== 'Default') {
      bad.push(c.name);
      types.push(pm);
    }
  }
  return bad.length > 0
    ? { allowed: false, reason: 'procMount', detail: `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}` }
    : ALLOWED;
};

const procMount1_35: CheckPod = (pod) => (inUserNamespace(pod.spec) ? ALLOWED : procMountDefaultOnly(pod));

export const SECCOMP_BASELINE = 'seccompProfile_baseline';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

export function validSeccompType(type: string): boolean {
  return type === 'Localhost' || type === 'RuntimeDefault';
}

/** seccomp 1.0: the alpha annotations, which may name only the runtime's default or a localhost profile. */
const seccompBaseline1_0: CheckPod = ({ annotations, spec }) => {
  const ok = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
  const forbidden: string[] = [];
  const podValue = annotations[SECCOMP_POD_ANNOTATION];
  if (podValue !== undefined && !ok(podValue)) forbidden.push(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(podValue)}`);
  for (const c of containersOf(spec)) {
    const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name;
    const v = annotations[key];
    if (v !== undefined && !ok(v)) forbidden.push(`${key}=${JSON.stringify(v)}`);
  }
  const list = sortedSet(forbidden);
  return list.length > 0
    ? { allowed: false, reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', list.length)} ${list.join(', ')}` }
    : ALLOWED;
};

/** seccomp 1.19: the fields, which may name only RuntimeDefault or Localhost (or nothing). */
const seccompBaseline1_19: CheckPod = ({ spec }) => {
  const { setters, types } = forbiddenProfiles(spec, 'seccompProfile', validSeccompType);
  return setters.length > 0
    ? { allowed: false, reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(types)}` }
    : ALLOWED;
};

const SYSCTLS_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

function sysctls(allowed: readonly string[]): CheckPod {
  return ({ spec }) => {
    const forbidden = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !allowed.includes(n));
    return forbidden.length > 0 ? { allowed: false, reason: 'forbidden sysctls', detail: forbidden.join(', ') } : ALLOWED;
  };
}

const windowsHostProcess: CheckPod = ({ spec }) => {
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod');
  const bad = containersOf(spec)
    .filter((c) => c.securityContext?.windowsOptions?.hostProcess === true)
    .map((c) => c.name);
  if (bad.length > 0) setters.push(containersPhrase(bad));
  return setters.length > 0
    ? { allowed: false, reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` }
    : ALLOWED;
};

/** The hosts a probe or lifecycle handler sends to: a pod may only reach itself. */
function handlerHosts(h: Probe | LifecycleHandler | null | undefined): string[] {
  if (!h) return [];
  return [h.httpGet?.host, h.tcpSocket?.host].filter((x): x is string => typeof x === 'string' && x !== '');
}

const hostProbesAndHostLifecycle: CheckPod = ({ spec }) => {
  const bad = new Set<string>();
  const hosts: string[] = [];
  for (const c of containersOf(spec)) {
    for (const h of [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.postStart, c.lifecycle?.preStop]) {
      const found = handlerHosts(h);
      if (found.length > 0) {
        bad.add(c.name);
        hosts.push(...found);
      }
    }
  }
  const names = sortedSet(bad);
  const list = sortedSet(hosts);
  return names.length > 0
    ? {
        allowed: false,
        reason: 'probe or lifecycle host',
        detail: `${containersPhrase(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', list.length)} ${joinQuote(list)}`,
      }
    : ALLOWED;
};

/** A check with its versions: [first v1.<minor>, check]. */
function baseline(id: string, ...versions: [number, CheckPod][]): Check {
  return { id, level: 'baseline', versions: versions.map(([minimumVersion, check]) => ({ minimumVersion, check })) };
}

export const BASELINE_CHECKS: readonly Check[] = [
  baseline('appArmorProfile', [0, appArmorProfile]),
  baseline(CAPABILITIES_BASELINE, [0, capabilitiesBaseline]),
  baseline('hostNamespaces', [0, hostNamespaces]),
  baseline(HOST_PATH_VOLUMES, [0, hostPathVolumes]),
  baseline('hostPorts', [0, hostPorts]),
  baseline('hostProbesAndHostLifecycle', [34, hostProbesAndHostLifecycle]),
  baseline('privileged', [0, privileged]),
  baseline(PROC_MOUNT, [0, procMountDefaultOnly], [35, procMount1_35]),
  baseline('seLinuxOptions', [0, seLinuxOptions(SELINUX_TYPES_1_0)], [31, seLinuxOptions(SELINUX_TYPES_1_31)]),
  baseline(SECCOMP_BASELINE, [0, seccompBaseline1_0], [19, seccompBaseline1_19]),
  baseline('sysctls', [0, sysctls(SYSCTLS_1_0)], [27, sysctls(SYSCTLS_1_27)], [29, sysctls(SYSCTLS_1_29)], [32, sysctls(SYSCTLS_1_32)]),
  baseline('windowsHostProcess', [0, windowsHostProcess]),
];
