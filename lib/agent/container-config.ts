/**
 * From a pod's container spec to what a runtime needs to start it, as the
 * kubelet's GenerateRunContainerOptions does: the environment (envFrom, then
 * env, with fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef
 * resolved and `$(VAR)` references expanded), command and args expanded with
 * that environment, volume mounts, and resource limits in runtime units.
 * A reference that cannot be resolved is a CreateContainerConfigError.
 */
import type { Container, Pod } from '../api/core/v1/pod.js';
import { metadataFieldValue } from '../api/downward-api.js';
import type { KObject } from '../api/object.js';
import { milliCpu, parseQuantity } from '../api/quantity.js';
import { type ContainerConfig, type ContainerKind, ContainerStartError, type PodRef, type VolumeMount } from './runtime.js';

/** Where configMap and secret references are read from (the API, through the agent's client). */
export interface EnvSources {
  /** The data of a ConfigMap, or undefined if it does not exist. */
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The decoded data of a Secret, or undefined if it does not exist. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface PodContext {
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** The node's allocatable resources, for resourceFieldRef without a limit. */
  nodeAllocatable: { cpuMilli: number; memoryBytes: number };
  /** Host paths of the volumes the agent prepared (configMap, secret, persistentVolumeClaim), by volume name. */
  volumePaths?: ReadonlyMap<string, string>;
  /** The service environment variables (lib/agent/service-discovery.ts), added where the container sets none. */
  serviceEnv?: ReadonlyMap<string, string>;
  /** The pod's managed hosts file, bind-mounted at /etc/hosts. */
  hostsFile?: string;
  /** The pod's resolv.conf (per dnsPolicy), bind-mounted at /etc/resolv.conf, hostNetwork pods' too. */
  resolvConf?: string;
}

type P = Pod & KObject;

/**
 * Expands `$(NAME)` with the given variables as Kubernetes' expansion does:
 * `$$` is a literal `$`, an unknown `$(NAME)` stays as written.
 */
export function expand(input: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end > 0) {
        const name = input.slice(i + 2, end);
        const v = vars.get(name);
        out += v ?? `$(${name})`;
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/**
 * The kubelet's podFieldSelectorRuntimeValue: the spec and status paths from
 * what the node knows, the rest from the pod's metadata. spec.serviceAccountName
 * is "default" where the pod names none, as Kubernetes' ServiceAccount
 * admission would have set it.
 */
function fieldValue(pod: P, path: string, ctx: PodContext): string | undefined {
  switch (path) {
    case 'spec.nodeName':
      return ctx.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP;
    default:
      return metadataFieldValue(pod.metadata, path);
  }
}

function resourceValue(container: Container, resource: string, divisor: unknown, ctx: PodContext): string | undefined {
  const [kind, name] = resource.split('.') as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name) return undefined;
  const raw = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[name];
  const d = parseQuantity(divisor as string | number | undefined) || 1;
  if (name === 'cpu') {
    const milli = raw !== undefined ? milliCpu(raw) : kind === 'limits' ? ctx.nodeAllocatable.cpuMilli : 0;
    return String(Math.ceil(milli / 1000 / d));
  }
  if (name === 'memory' || name === 'ephemeral-storage') {
    const bytes = raw !== undefined ? (parseQuantity(raw) ?? 0) : kind === 'limits' && name === 'memory' ? ctx.nodeAllocatable.memoryBytes : 0;
    return String(Math.ceil(bytes / d));
  }
  return undefined;
}

/**
 * The container's environment, in order, every reference resolved. As the
 * kubelet: envFrom, then env (whose `$(VAR)` may name service variables too),
 * then the service variables the container did not set itself.
 */
export async function resolveEnv(pod: P, container: Container, ctx: PodContext, sources: EnvSources): Promise<[string, string][]> {
  const ns = pod.metadata.namespace ?? 'default';
  const vars = new Map<string, string>();
  const serviceEnv = ctx.serviceEnv ?? new Map<string, string>();
  const fail = (msg: string): never => {
    throw new ContainerStartError('CreateContainerConfigError', msg);
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const data = await sources.configMap(ns, from.configMapRef.name ?? '');
      if (!data) {
        if (from.configMapRef.optional) continue;
        fail(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data!)) vars.set(prefix + k, v);
    }
    if (from.secretRef) {
      const data = await sources.secret(ns, from.secretRef.name ?? '');
      if (!data) {
        if (from.secretRef.optional) continue;
        fail(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data!)) vars.set(prefix + k, v);
    }
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const vf = e.valueFrom;
      let value: string | undefined;
      if (vf.fieldRef) {
        value = fieldValue(pod, vf.fieldRef.fieldPath, ctx);
        if (value === undefined) fail(`unsupported fieldRef ${vf.fieldRef.fieldPath} in env ${e.name}`);
      } else if (vf.resourceFieldRef) {
        const c = vf.resourceFieldRef.containerName
          ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === vf.resourceFieldRef!.containerName)
          : container;
        value = c ? resourceValue(c, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, ctx) : undefined;
        if (value === undefined) fail(`unsupported resourceFieldRef ${vf.resourceFieldRef.resource} in env ${e.name}`);
      } else if (vf.configMapKeyRef) {
        const ref = vf.configMapKeyRef;
        const data = await sources.configMap(ns, ref.name ?? '');
        value = data?.[ref.key];
        if (value === undefined) {
          if (ref.optional) continue;
          fail(data ? `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}` : `configmap "${ref.name}" not found`);
        }
      } else if (vf.secretKeyRef) {
        const ref = vf.secretKeyRef;
        const data = await sources.secret(ns, ref.name ?? '');
        value = data?.[ref.key];
        if (value === undefined) {
          if (ref.optional) continue;
          fail(data ? `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` : `secret "${ref.name}" not found`);
        }
      }
      vars.set(e.name, value ?? '');
    } else {
      vars.set(e.name, expand(e.value ?? '', new Map([...serviceEnv, ...vars])));
    }
  }
  for (const [k, v] of serviceEnv) if (!vars.has(k)) vars.set(k, v);
  return [...vars];
}

/** A subPath must stay inside its volume: relative, no `..` elements. */
function subPathOk(sub: string): boolean {
  return !sub.startsWith('/') && !sub.split('/').includes('..');
}

/**
 * Volume mounts of a container, joined with the pod's volume definitions.
 * configMap, secret, projected and persistentVolumeClaim volumes are the host paths the
 * agent prepared (`volumePaths`); configMap, secret and projected mounts are read-only,
 * as in Kubernetes. Unsupported volume types fail.
 */
export function volumeMounts(pod: P, container: Container, volumePaths: ReadonlyMap<string, string> = new Map()): VolumeMount[] {
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  const out: VolumeMount[] = [];
  const fail = (msg: string): never => {
    throw new ContainerStartError('CreateContainerConfigError', msg);
  };
  for (const m of container.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) fail(`volume "${m.name}" is not defined in the pod`);
    if (m.subPathExpr) fail(`volume mount "${m.name}": subPathExpr is not supported by kumo`);
    const sub = m.subPath ?? '';
    if (sub && !subPathOk(sub)) fail(`volume mount "${m.name}": subPath "${sub}" must be a relative path without '..'`);
    const within = (path: string) => (sub ? `${path.replace(/\/$/, '')}/${sub}` : path);
    const readOnly = m.readOnly ?? false;
    if (v!.emptyDir) {
      if (sub) fail(`volume mount "${m.name}": subPath on an emptyDir volume is not supported by kumo`);
      out.push({
        volume: v!.name,
        source: { type: 'emptyDir', medium: v!.emptyDir.medium === 'Memory' ? 'Memory' : '' },
        containerPath: m.mountPath,
        readOnly,
      });
    } else if (v!.hostPath) {
      out.push({
        volume: v!.name,
        source: { type: 'hostPath', path: within(v!.hostPath.path), hostPathType: sub ? '' : (v!.hostPath.type ?? '') },
        containerPath: m.mountPath,
        readOnly,
      });
    } else if (v!.configMap || v!.secret || v!.projected || v!.persistentVolumeClaim) {
      const path = volumePaths.get(v!.name);
      if (!path) fail(`volume "${m.name}" is not set up`);
      const ro = v!.persistentVolumeClaim ? readOnly || !!v!.persistentVolumeClaim.readOnly : true;
      out.push({ volume: v!.name, source: { type: 'bind', path: within(path!) }, containerPath: m.mountPath, readOnly: ro });
    } else {
      fail(`volume "${m.name}": only emptyDir, hostPath, configMap, secret, projected and persistentVolumeClaim volumes are supported by kumo`);
    }
  }
  return out;
}

export function podRef(pod: P): PodRef {
  return { uid: pod.metadata.uid ?? '', name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default' };
}

/** Everything the runtime needs to start one attempt of `container`. */
export async function containerConfig(
  pod: P,
  container: Container,
  kind: Exclude<ContainerKind, 'sandbox'>,
  restartCount: number,
  ctx: PodContext,
  sources: EnvSources,
): Promise<ContainerConfig> {
  const env = await resolveEnv(pod, container, ctx, sources);
  const vars = new Map(env);
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const memory = parseQuantity(limits.memory);
  return {
    pod: podRef(pod),
    name: container.name,
    kind,
    restartCount,
    image: container.image ?? '',
    ...(container.command ? { command: container.command.map((s) => expand(s, vars)) } : {}),
    ...(container.args ? { args: container.args.map((s) => expand(s, vars)) } : {}),
    env,
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    hostNetwork: !!pod.spec?.hostNetwork,
    tty: !!container.tty,
    stdin: !!container.stdin,
    stdinOnce: !!container.stdinOnce,
    mounts: [
      ...volumeMounts(pod, container, ctx.volumePaths),
      ...(ctx.hostsFile && !pod.spec?.hostNetwork && !(container.volumeMounts ?? []).some((m) => m.mountPath === '/etc/hosts')
        ? [{ volume: 'etc-hosts', source: { type: 'bind' as const, path: ctx.hostsFile }, containerPath: '/etc/hosts', readOnly: false }]
        : []),
      ...(ctx.resolvConf && !(container.volumeMounts ?? []).some((m) => m.mountPath === '/etc/resolv.conf')
        ? [{ volume: 'etc-resolv-conf', source: { type: 'bind' as const, path: ctx.resolvConf }, containerPath: '/etc/resolv.conf', readOnly: false }]
        : []),
    ],
    resources: {
      ...(limits.cpu !== undefined ? { cpuLimitMilli: milliCpu(limits.cpu) } : {}),
      ...(memory !== undefined ? { memoryLimitBytes: Math.floor(memory) } : {}),
      ...(requests.cpu !== undefined ? { cpuRequestMilli: milliCpu(requests.cpu) } : {}),
    },
    graceSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
  };
}
