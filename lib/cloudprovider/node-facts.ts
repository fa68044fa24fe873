/**
 * What a Node says about the machine under it, as Kubernetes' AWS cloud
 * provider writes it: `spec.providerID` (`aws:///<zone>/<instance-id>`),
 * the well-known topology and instance labels, and (kumo's own) the ECS
 * container instance ARN as an annotation. The agent derives them from its
 * ECS container instance (lib/cloud/ecs-host.ts); the fleet simulator does
 * the same for simulated agents, so both label nodes identically. Pure.
 */

export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_OS = 'kubernetes.io/os';
/** The node's ECS container instance. */
export const ANNOTATION_CONTAINER_INSTANCE = 'ecs.kumo.io/container-instance-arn';

export interface NodeFacts {
  providerID?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The parts of an ECS ContainerInstance the facts come from. */
export interface ContainerInstanceFacts {
  containerInstanceArn?: string;
  ec2InstanceId?: string;
  attributes?: { name?: string; value?: string }[];
}

export function providerIdOf(zone: string, instanceId: string): string {
  return `aws:///${zone}/${instanceId}`;
}

/** `aws:///us-east-1a/i-0abc` (or the zone-less `aws:///i-0abc`) → its parts; undefined for other providers. */
export function parseProviderId(id: string | null | undefined): { zone?: string; instanceId: string } | undefined {
  const m = /^aws:\/\/\/(?:([^/]+)\/)?(i-[0-9a-zA-Z]+)$/.exec(id ?? '');
  if (!m) return undefined;
  return { ...(m[1] ? { zone: m[1] } : {}), instanceId: m[2]! };
}

/** `arn:aws:ecs:<region>:...` → region. */
export function regionOfArn(arn: string | undefined): string | undefined {
  const parts = (arn ?? '').split(':');
  return parts[0] === 'arn' && parts[3] ? parts[3] : undefined;
}

/** ECS's `ecs.cpu-architecture` (x86_64, arm64) → GOARCH, as kubernetes.io/arch holds it. */
function goArch(ecsArch: string | undefined): string | undefined {
  if (!ecsArch) return undefined;
  if (ecsArch === 'x86_64') return 'amd64';
  if (ecsArch === 'aarch64') return 'arm64';
  return ecsArch;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * The facts of the node on this container instance. `zoneHint` is used when
 * the instance carries no `ecs.availability-zone` attribute (the task
 * metadata names the zone too).
 */
export function factsOfContainerInstance(instance: ContainerInstanceFacts, zoneHint?: string): NodeFacts {
  const attr = (name: string) => instance.attributes?.find((a) => a.name === name)?.value;
  const zone = attr('ecs.availability-zone') ?? zoneHint;
  const region = regionOfArn(instance.containerInstanceArn) ?? (zone ? zone.replace(/[a-z]$/, '') : undefined);
  const labels: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v && v.length <= 63 && LABEL_VALUE.test(v)) labels[k] = v;
  };
  put(LABEL_INSTANCE_TYPE, attr('ecs.instance-type'));
  put(LABEL_ZONE, zone);
  put(LABEL_REGION, region);
  put(LABEL_ARCH, goArch(attr('ecs.cpu-architecture')));
  put(LABEL_OS, attr('ecs.os-type'));
  const id = instance.ec2InstanceId;
  return {
    ...(id ? { providerID: zone ? providerIdOf(zone, id) : `aws:///${id}` } : {}),
    labels,
    annotations: instance.containerInstanceArn ? { [ANNOTATION_CONTAINER_INSTANCE]: instance.containerInstanceArn } : {},
  };
}
