/**
 * kubectl's columns for each kind (pkg/printers/internalversion), computed on
 * the server for `Accept: ...;as=Table` and printed by `kumo get`. Priority 0
 * columns show always, priority 1 only with `-o wide`. Each kind's module
 * (lib/kinds) names its printer.
 */
import type { Deployment } from '../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../api/apps/v1/replicaset.js';
import type { Job } from '../api/batch/v1/job.js';
import type { Lease } from '../api/coordination/v1/lease.js';
import type { ConfigMap } from '../api/core/v1/configmap.js';
import type { Endpoints } from '../api/core/v1/endpoints.js';
import type { Event } from '../api/core/v1/event.js';
import type { Namespace } from '../api/core/v1/namespace.js';
import type { Node } from '../api/core/v1/node.js';
import type { PersistentVolume } from '../api/core/v1/persistentvolume.js';
import type { PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import type { PodTemplate } from '../api/core/v1/podtemplate.js';
import type { ReplicationController } from '../api/core/v1/replicationcontroller.js';
import type { Secret } from '../api/core/v1/secret.js';
import type { Service } from '../api/core/v1/service.js';
import type { EndpointSlice } from '../api/discovery/v1/endpointslice.js';
import type { LabelSelector } from '../api/meta/v1/label-selector.js';
import type { KObject } from '../api/object.js';
import { age, humanDuration } from './duration.js';
import { podSummary } from './pod-status.js';
import { labelSelectorText } from './selector.js';
import { formatLabels } from './table-printer.js';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

/** A table cell; null where a custom resource's column finds no value (kubectl prints `<none>`). */
export type Cell = string | number | boolean | null;

export interface Printer {
  columns: ColumnDefinition[];
  row(obj: KObject, now: number): Cell[];
}

export function col(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, format = ''): ColumnDefinition {
  return { name, type, format, description: name, priority };
}

export const NAME = col('Name', 'string', 0, 'name');
export const AGE = col('Age');

/** A pod template's CONTAINERS and IMAGES cells (kubectl's layoutContainerCells). */
export function templateInfo(t: PodTemplateSpec | null | undefined): [string, string] {
  const containers = t?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(',')];
}

/** metav1.FormatLabelSelector: the selector's text, `<none>` when it has none. */
export function selectorString(sel: LabelSelector | null | undefined): string {
  if (!sel) return '<none>';
  const s = labelSelectorText(sel);
  return s === '' ? '<none>' : s;
}

export const podPrinter: Printer = {
  columns: [
    NAME,
    col('Ready'),
    col('Status'),
    col('Restarts'),
    AGE,
    col('IP', 'string', 1),
    col('Node', 'string', 1),
    col('Nominated Node', 'string', 1),
    col('Readiness Gates', 'string', 1),
  ],
  row(obj, now) {
    const pod = obj as Pod;
    const s = podSummary(pod, now);
    const gates = pod.spec?.readinessGates ?? [];
    const gateText =
      gates.length === 0
        ? '<none>'
        : `${gates.filter((g) => (pod.status?.conditions ?? []).some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`;
    return [
      pod.metadata.name ?? '',
      s.ready,
      s.status,
      s.restarts,
      age(pod.metadata.creationTimestamp, now),
      pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      gateText,
    ];
  },
};

export const deploymentPrinter: Printer = {
  columns: [
    NAME,
    col('Ready'),
    col('Up-to-date', 'integer'),
    col('Available', 'integer'),
    AGE,
    col('Containers', 'string', 1),
    col('Images', 'string', 1),
    col('Selector', 'string', 1),
  ],
  row(obj, now) {
    const d = obj as Deployment;
    const st = d.status ?? {};
    const [containers, images] = templateInfo(d.spec?.template);
    return [
      d.metadata.name ?? '',
      `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      st.updatedReplicas ?? 0,
      st.availableReplicas ?? 0,
      age(d.metadata.creationTimestamp, now),
      containers,
      images,
      selectorString(d.spec?.selector),
    ];
  },
};

/** The columns ReplicaSets and ReplicationControllers share (printReplicaSet, printReplicationController); only the selector's form differs. */
function podSetPrinter(selector: (obj: KObject) => string): Printer {
  return {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row(obj, now) {
      const set = obj as ReplicaSet | ReplicationController;
      const [containers, images] = templateInfo(set.spec?.template);
      return [
        set.metadata.name ?? '',
        set.spec?.replicas ?? 0,
        set.status?.replicas ?? 0,
        set.status?.readyReplicas ?? 0,
        age(set.metadata.creationTimestamp, now),
        containers,
        images,
        selector(obj),
      ];
    },
  };
}

export const replicaSetPrinter: Printer = podSetPrinter((obj) => selectorString((obj as ReplicaSet).spec?.selector));

/** An RC's selector is a label map: labels.FormatLabels (`<none>` when empty). */
export const replicationControllerPrinter: Printer = podSetPrinter((obj) => formatLabels((obj as ReplicationController).spec?.selector));

/** printPodTemplate: the template's containers, images and pod labels. */
export const podTemplatePrinter: Printer = {
  columns: [NAME, col('Containers'), col('Images'), col('Pod Labels')],
  row(obj) {
    const pt = obj as PodTemplate;
    const [containers, images] = templateInfo(pt.template);
    return [pt.metadata.name ?? '', containers, images, formatLabels(pt.template?.metadata?.labels)];
  },
};

function jobStatus(job: Job): string {
  const conds = job.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (job.spec?.suspend || has('Suspended')) return 'Suspended';
  return 'Running';
}

export const jobPrinter: Printer = {
  columns: [
    NAME,
    col('Status'),
    col('Completions'),
    col('Duration'),
    AGE,
    col('Containers', 'string', 1),
    col('Images', 'string', 1),
    col('Selector', 'string', 1),
  ],
  row(obj, now) {
    const job = obj as Job;
    const completions = job.spec?.completions;
    const succeeded = job.status?.succeeded ?? 0;
    const comp = completions !== undefined && completions !== null ? `${succeeded}/${completions}` : `${succeeded}/1 of ${job.spec?.parallelism ?? 1}`;
    const start = job.status?.startTime ? Date.parse(job.status.startTime) : undefined;
    const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
    const [containers, images] = templateInfo(job.spec?.template);
    return [
      job.metadata.name ?? '',
      jobStatus(job),
      comp,
      start === undefined ? '' : humanDuration(end - start),
      age(job.metadata.creationTimestamp, now),
      containers,
      images,
      selectorString(job.spec?.selector),
    ];
  },
};

function nodeRoles(node: Node): string {
  const roles: string[] = [];
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.push(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role') roles.push(v);
  }
  return roles.length ? roles.sort().join(',') : '<none>';
}

export function nodeStatusText(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

export const nodePrinter: Printer = {
  columns: [
    NAME,
    col('Status'),
    col('Roles'),
    AGE,
    col('Version'),
    col('Internal-IP', 'string', 1),
    col('External-IP', 'string', 1),
    col('OS-Image', 'string', 1),
    col('Kernel-Version', 'string', 1),
    col('Container-Runtime', 'string', 1),
  ],
  row(obj, now) {
    const node = obj as Node;
    const addr = (t: string) => (node.status?.addresses ?? []).find((a) => a.type === t)?.address ?? '<none>';
    const info = (node.status?.nodeInfo ?? {}) as Record<string, string>;
    return [
      node.metadata.name ?? '',
      nodeStatusText(node),
      nodeRoles(node),
      age(node.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      addr('InternalIP'),
      addr('ExternalIP'),
      info.osImage ?? '<unknown>',
      info.kernelVersion ?? '<unknown>',
      info.containerRuntimeVersion ?? '<unknown>',
    ];
  },
};

export const namespacePrinter: Printer = {
  columns: [NAME, col('Status'), AGE],
  row(obj, now) {
    const ns = obj as Namespace;
    return [ns.metadata.name ?? '', ns.status?.phase ?? '', age(ns.metadata.creationTimestamp, now)];
  },
};

function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function externalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  switch (spec.type) {
    case 'ExternalName':
      return spec.externalName ?? '<none>';
    case 'LoadBalancer': {
      const ingress = (svc.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[];
      const ips = [...ingress.map((i) => i.ip ?? i.hostname ?? ''), ...(spec.externalIPs ?? [])].filter((x) => x);
      return ips.length ? ips.join(',') : '<pending>';
    }
    default:
      return (spec.externalIPs ?? []).length ? spec.externalIPs!.join(',') : '<none>';
  }
}

export const servicePrinter: Printer = {
  columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
  row(obj, now) {
    const svc = obj as Service;
    const sel = Object.entries(svc.spec?.selector ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      svc.metadata.name ?? '',
      svc.spec?.type ?? 'ClusterIP',
      svc.spec?.clusterIP || '<none>',
      externalIP(svc),
      servicePorts(svc),
      age(svc.metadata.creationTimestamp, now),
      sel || '<none>',
    ];
  },
};

export const configMapPrinter: Printer = {
  columns: [NAME, col('Data', 'integer'), AGE],
  row(obj, now) {
    const cm = obj as ConfigMap;
    return [cm.metadata.name ?? '', Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm.metadata.creationTimestamp, now)];
  },
};

export const secretPrinter: Printer = {
  columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
  row(obj, now) {
    const s = obj as Secret;
    return [s.metadata.name ?? '', s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, age(s.metadata.creationTimestamp, now)];
  },
};

export const eventPrinter: Printer = {
  columns: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', 1),
    col('Source', 'string', 1),
    col('Message'),
    col('First Seen', 'string', 1),
    col('Count', 'integer', 1),
    col('Name', 'string', 1),
  ],
  row(obj, now) {
    const ev = obj as Event;
    const last = ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp;
    const first = ev.firstTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp;
    const io = ev.involvedObject ?? {};
    const source = ev.source?.component ? `${ev.source.component}${ev.source.host ? `, ${ev.source.host}` : ''}` : (ev.reportingComponent ?? '');
    return [
      age(last, now),
      ev.type ?? '',
      ev.reason ?? '',
      `${(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
      io.fieldPath ?? '',
      source,
      (ev.message ?? '').trim(),
      age(first, now),
      ev.count ?? 1,
      ev.metadata.name ?? '',
    ];
  },
};

export const leasePrinter: Printer = {
  columns: [NAME, col('Holder'), AGE],
  row(obj, now) {
    const l = obj as Lease;
    return [l.metadata.name ?? '', l.spec?.holderIdentity ?? '', age(l.metadata.creationTimestamp, now)];
  },
};

/** kubectl's formatEndpoints: up to three ip:port, then "+ N more...". */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const host = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(`${host(a.ip)}:${p.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

export const endpointsPrinter: Printer = {
  columns: [NAME, col('Endpoints'), AGE],
  row(obj, now) {
    return [obj.metadata.name ?? '', formatEndpoints(obj as Endpoints), age(obj.metadata.creationTimestamp, now)];
  },
};

export const endpointSlicePrinter: Printer = {
  columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
  row(obj, now) {
    const slice = obj as EndpointSlice;
    const max = 3;
    const ports: string[] = [];
    let portCount = 0;
    for (const p of slice.ports ?? []) {
      if (ports.length < max) ports.push(p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? '*'));
      portCount++;
    }
    const addrs: string[] = [];
    let addrCount = 0;
    for (const e of slice.endpoints ?? []) {
      for (const a of e.addresses) {
        if (addrs.length < max) addrs.push(a);
        addrCount++;
      }
    }
    return [
      slice.metadata.name ?? '',
      slice.addressType,
      listWithMore(ports, portCount > max, portCount, max),
      listWithMore(addrs, addrCount > max, addrCount, max),
      age(slice.metadata.creationTimestamp, now),
    ];
  },
};

/** Kubernetes' GetAccessModesAsString: the short forms, in a fixed order. */
export function accessModesText(modes: readonly string[] | null | undefined): string {
  const m = modes ?? [];
  const out: string[] = [];
  if (m.includes('ReadWriteOnce')) out.push('RWO');
  if (m.includes('ReadOnlyMany')) out.push('ROX');
  if (m.includes('ReadWriteMany')) out.push('RWX');
  if (m.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

export function storageClassOf(obj: PersistentVolume | PersistentVolumeClaim): string {
  return obj.metadata.annotations?.[STORAGE_CLASS_ANNOTATION] ?? obj.spec?.storageClassName ?? '';
}

export const persistentVolumePrinter: Printer = {
  columns: [
    NAME,
    col('Capacity'),
    col('Access Modes'),
    col('Reclaim Policy'),
    col('Status'),
    col('Claim'),
    col('StorageClass'),
    col('VolumeAttributesClass'),
    col('Reason'),
    AGE,
    col('VolumeMode', 'string', 1),
  ],
  row(obj, now) {
    const pv = obj as PersistentVolume;
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    return [
      pv.metadata.name ?? '',
      String(spec.capacity?.storage ?? '0'),
      accessModesText(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? '',
      pv.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? ''),
      claim,
      storageClassOf(pv),
      spec.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      age(pv.metadata.creationTimestamp, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    NAME,
    col('Status'),
    col('Volume'),
    col('Capacity'),
    col('Access Modes'),
    col('StorageClass'),
    col('VolumeAttributesClass'),
    AGE,
    col('VolumeMode', 'string', 1),
  ],
  row(obj, now) {
    const pvc = obj as PersistentVolumeClaim;
    const spec = pvc.spec ?? {};
    const bound = !!spec.volumeName;
    return [
      pvc.metadata.name ?? '',
      pvc.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? ''),
      spec.volumeName ?? '',
      bound ? String(pvc.status?.capacity?.storage ?? '0') : '',
      bound ? accessModesText(pvc.status?.accessModes) : '',
      storageClassOf(pvc),
      spec.volumeAttributesClassName ?? '<unset>',
      age(pvc.metadata.creationTimestamp, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

/** kubectl's printer for a kind it knows no columns of: NAME and AGE. */
export const defaultPrinter: Printer = {
  columns: [NAME, AGE],
  row(obj, now) {
    return [obj.metadata.name ?? '', age(obj.metadata.creationTimestamp, now)];
  },
};
