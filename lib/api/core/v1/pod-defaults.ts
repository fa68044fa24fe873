/**
 * Kubernetes' SetDefaults for pods and pod templates
 * (pkg/apis/core/v1/defaults.go), applied in place.
 */
import type { Container, PodSpec, Probe } from './pod.js';

export function defaultImagePullPolicy(image: string | null | undefined): 'Always' | 'IfNotPresent' {
  if (!image) return 'IfNotPresent';
  // A digest pins the image; otherwise the tag after the last '/' decides.
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: Probe | null | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

/** SetDefaults_Container: what every container gets, ephemeral ones included (SetDefaults_EphemeralContainer). */
function defaultContainerCommon(c: Container): void {
  c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
}

/** Requests default to limits where only limits are set (LimitRanger reads a container after this, as kube decodes before admission). */
export function defaultContainerRequests(c: Container): void {
  c.resources ??= {};
  const limits = c.resources.limits;
  if (limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(limits)) c.resources.requests[k] ??= v;
  }
}

function defaultContainer(c: Container): void {
  defaultContainerCommon(c);
  defaultContainerRequests(c);
  for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  for (const h of [c.lifecycle?.postStart, c.lifecycle?.preStop]) {
    if (h?.httpGet) {
      h.httpGet.path ??= '/';
      h.httpGet.scheme ??= 'HTTP';
    }
  }
}

export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainerCommon(c);
  for (const v of spec.volumes ?? []) {
    // SetDefaults_Volume: a volume that names no source is an emptyDir.
    if (!Object.entries(v).some(([k, source]) => k !== 'name' && source !== undefined && source !== null)) v.emptyDir = {};
    if (v.configMap) v.configMap.defaultMode ??= 0o644;
    if (v.secret) v.secret.defaultMode ??= 0o644;
    if (v.hostPath) v.hostPath.type ??= '';
  }
}
