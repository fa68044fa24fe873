/**
 * `kubectl describe` for services, config maps and secrets (kubectl v0.35).
 * Secrets never show values: only each key's decoded size, as kubectl does.
 */
import type { ConfigMap } from '../../api/core/v1/configmap.js';
import type { Event } from '../../api/core/v1/event.js';
import type { Secret } from '../../api/core/v1/secret.js';
import type { Service } from '../../api/core/v1/service.js';
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';
import { formatLabels } from '../table-printer.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from './common.js';
import { LEVEL_0, tabbed } from './writer.js';

interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
}

/**
 * kubectl's formatEndpointSlices: the ready addresses (unset readiness counts
 * as ready) of the slices' ports named `portName`, as ip:port, three at most
 * then "+ N more..."; `<none>` without slices, empty when none is ready.
 */
export function formatEndpointSlices(slices: readonly EndpointSlice[], portName: string | undefined): string {
  if (slices.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const s of slices) {
    const ports = s.ports ?? [];
    if (ports.length === 0) {
      for (const e of s.endpoints ?? []) {
        if (list.length === max) more = true;
        if (e.conditions?.ready === false) continue;
        if (!more) list.push(e.addresses[0]!);
        count++;
      }
      continue;
    }
    for (const port of ports) {
      if (portName !== undefined && (port.name ?? '') !== portName) continue;
      for (const e of s.endpoints ?? []) {
        if (list.length === max) more = true;
        const addr = e.addresses[0]!;
        if (e.conditions?.ready === false) continue;
        if (!more) list.push(`${addr.includes(':') ? `[${addr}]` : addr}:${port.port}`);
        count++;
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

/** `kubectl describe service`, with the Service's EndpointSlices (label kubernetes.io/service-name). */
export function describeService(svc: Service, slices: readonly EndpointSlice[], events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    const spec = svc.spec ?? {};
    const extra = spec as { loadBalancerSourceRanges?: string[] | null; healthCheckNodePort?: number | null; trafficDistribution?: string | null };
    w.write(LEVEL_0, `Name:\t${svc.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${svc.metadata.namespace ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', svc.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', svc.metadata.annotations);
    const selector = formatLabels(spec.selector);
    w.write(LEVEL_0, `Selector:\t${selector === '<none>' ? '' : selector}\n`);
    w.write(LEVEL_0, `Type:\t${spec.type ?? ''}\n`);
    if (spec.ipFamilyPolicy) w.write(LEVEL_0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
    w.write(LEVEL_0, `IP Families:\t${(spec.ipFamilies ?? []).length > 0 ? (spec.ipFamilies ?? []).join(',') : '<none>'}\n`);
    w.write(LEVEL_0, `IP:\t${spec.clusterIP ?? ''}\n`);
    w.write(LEVEL_0, `IPs:\t${(spec.clusterIPs ?? []).length > 0 ? (spec.clusterIPs ?? []).join(',') : '<none>'}\n`);
    if ((spec.externalIPs ?? []).length > 0) w.write(LEVEL_0, `External IPs:\t${(spec.externalIPs ?? []).join(',')}\n`);
    if (spec.loadBalancerIP) w.write(LEVEL_0, `Desired LoadBalancer IP:\t${spec.loadBalancerIP}\n`);
    if (spec.externalName) w.write(LEVEL_0, `External Name:\t${spec.externalName}\n`);
    const ingress = (svc.status?.loadBalancer?.ingress ?? []) as LoadBalancerIngress[];
    if (ingress.length > 0) {
      const list = ingress.map((i) => (i.ip ? `${i.ip}${i.ipMode ? ` (${i.ipMode})` : ''}` : (i.hostname ?? ''))).join(', ');
      w.write(LEVEL_0, `LoadBalancer Ingress:\t${list}\n`);
    }
    for (const p of spec.ports ?? []) {
      const name = p.name || '<unset>';
      const proto = p.protocol ?? 'TCP';
      w.write(LEVEL_0, `Port:\t${name}\t${p.port}/${proto}\n`);
      const target = p.targetPort ?? p.port;
      w.write(LEVEL_0, `TargetPort:\t${String(target)}/${proto}\n`);
      if (p.nodePort) w.write(LEVEL_0, `NodePort:\t${name}\t${p.nodePort}/${proto}\n`);
      w.write(LEVEL_0, `Endpoints:\t${formatEndpointSlices(slices, p.name ?? '')}\n`);
    }
    w.write(LEVEL_0, `Session Affinity:\t${spec.sessionAffinity ?? ''}\n`);
    if (spec.externalTrafficPolicy) w.write(LEVEL_0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
    if (spec.internalTrafficPolicy) w.write(LEVEL_0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
    if (extra.healthCheckNodePort) w.write(LEVEL_0, `HealthCheck NodePort:\t${extra.healthCheckNodePort}\n`);
    if ((extra.loadBalancerSourceRanges ?? []).length > 0)
      w.write(LEVEL_0, `LoadBalancer Source Ranges:\t${(extra.loadBalancerSourceRanges ?? []).join(',')}\n`);
    if (extra.trafficDistribution) w.write(LEVEL_0, `Traffic Distribution:\t${extra.trafficDistribution}\n`);
    if (events) describeEvents(events, w, now);
  });
}

export function describeConfigMap(cm: ConfigMap, events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${cm.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${cm.metadata.namespace ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', cm.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', cm.metadata.annotations);
    w.write(LEVEL_0, '\nData\n====\n');
    const data = cm.data ?? {};
    for (const k of Object.keys(data).sort()) {
      w.write(LEVEL_0, `${k}:\n----\n`);
      w.write(LEVEL_0, `${data[k]}\n`);
      w.write(LEVEL_0, '\n');
    }
    w.write(LEVEL_0, '\nBinaryData\n====\n');
    const binary = cm.binaryData ?? {};
    for (const k of Object.keys(binary).sort()) w.write(LEVEL_0, `${k}: ${Buffer.from(binary[k]!, 'base64').length} bytes\n`);
    w.write(LEVEL_0, '\n');
    if (events) describeEvents(events, w, now);
  });
}

/** `kubectl describe secret`: sizes only, except a service account token, which kubectl shows. */
export function describeSecret(secret: Secret): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${secret.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${secret.metadata.namespace ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', secret.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', secret.metadata.annotations);
    w.write(LEVEL_0, `\nType:\t${secret.type ?? ''}\n`);
    w.write(LEVEL_0, '\nData\n====\n');
    const data = secret.data ?? {};
    for (const k of Object.keys(data).sort()) {
      const bytes = Buffer.from(data[k]!, 'base64');
      if (k === 'token' && secret.type === 'kubernetes.io/service-account-token') w.write(LEVEL_0, `${k}:\t${bytes.toString('utf8')}\n`);
      else w.write(LEVEL_0, `${k}:\t${bytes.length} bytes\n`);
    }
  });
}
