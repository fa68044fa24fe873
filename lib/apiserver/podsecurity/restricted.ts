/**
 * The Restricted level's checks (pod-security-admission/policy, v0.35), on
 * top of Baseline's: current pod hardening practice, with upstream's
 * versions (Windows pods exempt from some since 1.25, user-namespace pods
 * from the root checks since 1.35), reasons and messages.
 */
import type { Volume } from '../../api/core/v1/pod.js';
import { CAPABILITIES_BASELINE, HOST_PATH_VOLUMES, PROC_MOUNT, procMountDefaultOnly, SECCOMP_BASELINE, validSeccompType } from './baseline.js';
import {
  ALLOWED,
  type Check,
  type CheckPod,
  containersOf,
  containersPhrase,
  forbiddenProfiles,
  inUserNamespace,
  isSet,
  isWindows,
  joinQuote,
  pluralize,
  sortedSet,
} from './check.js';

/** The same check, skipped for Windows pods (whose API validation forbids these Linux fields). */
function exceptWindows(check: CheckPod): CheckPod {
  return (pod) => (isWindows(pod.spec) ? ALLOWED : check(pod));
}

/** The same check, skipped for pods in a user namespace (root there is no root on the node). */
function exceptUserNamespace(check: CheckPod): CheckPod {
  return (pod) => (inUserNamespace(pod.spec) ? ALLOWED : check(pod));
}

const allowPrivilegeEscalation: CheckPod = ({ spec }) => {
  const bad = containersOf(spec)
    .filter((c) => c.securityContext?.allowPrivilegeEscalation !== false)
    .map((c) => c.name);
  return bad.length > 0
    ? {
        allowed: false,
        reason: 'allowPrivilegeEscalation != false',
        detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      }
    : ALLOWED;
};

const capabilitiesRestricted: CheckPod = ({ spec }) => {
  const missingDropAll: string[] = [];
  const addingForbidden: string[] = [];
  const forbidden: string[] = [];
  for (const c of containersOf(spec)) {
    const caps = c.securityContext?.capabilities;
    if (!isSet(caps)) {
      missingDropAll.push(c.name);
      continue;
    }
    if (!(caps.drop ?? []).includes('ALL')) missingDropAll.push(c.name);
    const extra = (caps.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length > 0) {
      addingForbidden.push(c.name);
      forbidden.push(...extra);
    }
  }
  const details = [
    ...(missingDropAll.length > 0 ? [`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`] : []),
    ...(addingForbidden.length > 0
      ? [`${containersPhrase(addingForbidden)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`]
      : []),
  ];
  return details.length > 0 ? { allowed: false, reason: 'unrestricted capabilities', detail: details.join('; ') } : ALLOWED;
};

const ALLOWED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
/** The volume types upstream names in its message, in the order it looks for them. */
const NAMED_VOLUME_TYPES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

const restrictedVolumes: CheckPod = ({ spec }) => {
  const bad: string[] = [];
  const types: string[] = [];
  for (const v of spec.volumes ?? []) {
    const source = v as Volume & Record<string, unknown>;
    if (ALLOWED_VOLUME_TYPES.some((t) => isSet(source[t]))) continue;
    bad.push(v.name);
    types.push(NAMED_VOLUME_TYPES.find((t) => isSet(source[t])) ?? 'unknown');
  }
  const list = sortedSet(types);
  return bad.length > 0
    ? {
        allowed: false,
        reason: 'restricted volume types',
        detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`,
      }
    : ALLOWED;
};

const runAsNonRoot: CheckPod = ({ spec }) => {
  const setters: string[] = [];
  let podNonRoot = false;
  const pod = spec.securityContext?.runAsNonRoot;
  if (isSet(pod)) {
    if (!pod) setters.push('pod');
    else podNonRoot = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const v = c.securityContext?.runAsNonRoot;
    if (isSet(v)) {
      if (!v) explicit.push(c.name);
    } else if (!podNonRoot) implicit.push(c.name);
  }
  if (explicit.length > 0) setters.push(containersPhrase(explicit));
  if (setters.length > 0)
    return { allowed: false, reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length > 0)
    return { allowed: false, reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true` };
  return ALLOWED;
};

const runAsUser: CheckPod = ({ spec }) => {
  const setters = spec.securityContext?.runAsUser === 0 ? ['pod'] : [];
  const bad = containersOf(spec)
    .filter((c) => c.securityContext?.runAsUser === 0)
    .map((c) => c.name);
  if (bad.length > 0) setters.push(containersPhrase(bad));
  return setters.length > 0 ? { allowed: false, reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : ALLOWED;
};

const seccompRestricted: CheckPod = ({ spec }) => {
  const { setters, types, podAllowed, unset } = forbiddenProfiles(spec, 'seccompProfile', validSeccompType);
  if (setters.length > 0)
    return {
      allowed: false,
      reason: 'seccompProfile',
      detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(types)}`,
    };
  // Containers that set none inherit the pod's, if it sets an allowed one.
  if (!podAllowed && unset.length > 0) {
    return {
      allowed: false,
      reason: 'seccompProfile',
      detail: `pod or ${containersPhrase(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    };
  }
  return ALLOWED;
};

/** A check with its versions: [first v1.<minor>, check, baseline checks it overrides]. */
function restricted(id: string, ...versions: [number, CheckPod, string?][]): Check {
  return {
    id,
    level: 'restricted',
    versions: versions.map(([minimumVersion, check, overrides]) => ({ minimumVersion, check, ...(overrides ? { overrides: [overrides] } : {}) })),
  };
}

export const RESTRICTED_CHECKS: readonly Check[] = [
  restricted('allowPrivilegeEscalation', [8, allowPrivilegeEscalation], [25, exceptWindows(allowPrivilegeEscalation)]),
  restricted(
    'capabilities_restricted',
    [22, capabilitiesRestricted, CAPABILITIES_BASELINE],
    [25, exceptWindows(capabilitiesRestricted), CAPABILITIES_BASELINE],
  ),
  // From 1.35 the baseline procMount check spares user-namespace pods; restricted keeps the strict one.
  restricted('procMount_restricted', [35, procMountDefaultOnly, PROC_MOUNT]),
  restricted('restrictedVolumes', [0, restrictedVolumes, HOST_PATH_VOLUMES]),
  restricted('runAsNonRoot', [0, runAsNonRoot], [35, exceptUserNamespace(runAsNonRoot)]),
  restricted('runAsUser', [23, runAsUser], [35, exceptUserNamespace(runAsUser)]),
  restricted('seccompProfile_restricted', [19, seccompRestricted, SECCOMP_BASELINE], [25, exceptWindows(seccompRestricted), SECCOMP_BASELINE]),
];
