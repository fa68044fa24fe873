import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { Int32, Int64, IntOrStringSchema, ResourceListSchema, opt } from '../../meta/v1/common.js';
import { LabelSelectorSchema } from '../../meta/v1/label-selector.js';
import { ObjectMetaSchema, TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { PodDNSConfigSchema } from './pod-dns.js';
import { PodSecurityContextSchema, SecurityContextSchema } from './security-context.js';

export const KeySelectorSchema = z.looseObject({ name: z.string().optional(), key: z.string(), optional: opt(z.boolean()) });

export const EnvVarSchema = z.looseObject({
  name: z.string(),
  value: opt(z.string()),
  valueFrom: opt(
    z.looseObject({
      fieldRef: opt(z.looseObject({ apiVersion: z.string().optional(), fieldPath: z.string() })),
      resourceFieldRef: opt(z.looseObject({ containerName: z.string().optional(), resource: z.string(), divisor: z.unknown().optional() })),
      configMapKeyRef: opt(KeySelectorSchema),
      secretKeyRef: opt(KeySelectorSchema),
    }),
  ),
});

export const EnvFromSourceSchema = z.looseObject({
  prefix: opt(z.string()),
  configMapRef: opt(z.looseObject({ name: z.string().optional(), optional: opt(z.boolean()) })),
  secretRef: opt(z.looseObject({ name: z.string().optional(), optional: opt(z.boolean()) })),
});

export const ContainerPortSchema = z.looseObject({
  name: opt(z.string()),
  hostPort: opt(Int32),
  containerPort: Int32,
  protocol: opt(z.string()),
  hostIP: opt(z.string()),
});

export const HTTPHeaderSchema = z.looseObject({ name: z.string(), value: z.string() });

export const ExecActionSchema = z.looseObject({ command: opt(z.array(z.string())) });
export const HTTPGetActionSchema = z.looseObject({
  path: opt(z.string()),
  port: IntOrStringSchema,
  host: opt(z.string()),
  scheme: opt(z.string()),
  httpHeaders: opt(z.array(HTTPHeaderSchema)),
});
export const TCPSocketActionSchema = z.looseObject({ port: IntOrStringSchema, host: opt(z.string()) });
export const GRPCActionSchema = z.looseObject({ port: Int32, service: opt(z.string()) });

export const ProbeSchema = z.looseObject({
  exec: opt(ExecActionSchema),
  httpGet: opt(HTTPGetActionSchema),
  tcpSocket: opt(TCPSocketActionSchema),
  grpc: opt(GRPCActionSchema),
  initialDelaySeconds: opt(Int32),
  timeoutSeconds: opt(Int32),
  periodSeconds: opt(Int32),
  successThreshold: opt(Int32),
  failureThreshold: opt(Int32),
  terminationGracePeriodSeconds: opt(Int64),
});

export const LifecycleHandlerSchema = z.looseObject({
  exec: opt(ExecActionSchema),
  httpGet: opt(HTTPGetActionSchema),
  tcpSocket: opt(TCPSocketActionSchema),
  sleep: opt(z.looseObject({ seconds: Int64 })),
});

export const ResourceRequirementsSchema = z.looseObject({
  limits: opt(ResourceListSchema),
  requests: opt(ResourceListSchema),
});

export const VolumeMountSchema = z.looseObject({
  name: z.string(),
  mountPath: z.string(),
  readOnly: opt(z.boolean()),
  subPath: opt(z.string()),
  subPathExpr: opt(z.string()),
  mountPropagation: opt(z.string()),
});

export const ContainerSchema = z.looseObject({
  name: z.string(),
  image: opt(z.string()),
  command: opt(z.array(z.string())),
  args: opt(z.array(z.string())),
  workingDir: opt(z.string()),
  ports: opt(z.array(ContainerPortSchema)),
  envFrom: opt(z.array(EnvFromSourceSchema)),
  env: opt(z.array(EnvVarSchema)),
  resources: opt(ResourceRequirementsSchema),
  restartPolicy: opt(z.string()),
  volumeMounts: opt(z.array(VolumeMountSchema)),
  livenessProbe: opt(ProbeSchema),
  readinessProbe: opt(ProbeSchema),
  startupProbe: opt(ProbeSchema),
  lifecycle: opt(z.looseObject({ postStart: opt(LifecycleHandlerSchema), preStop: opt(LifecycleHandlerSchema) })),
  terminationMessagePath: opt(z.string()),
  terminationMessagePolicy: opt(z.string()),
  imagePullPolicy: opt(z.string()),
  securityContext: opt(SecurityContextSchema),
  stdin: opt(z.boolean()),
  stdinOnce: opt(z.boolean()),
  tty: opt(z.boolean()),
});

/**
 * A container added to a running pod for debugging (`kubectl debug`), through
 * the pods/ephemeralcontainers subresource only: every Container field (the
 * API refuses those an ephemeral container may not set) plus the container
 * whose process namespace it joins.
 */
export const EphemeralContainerSchema = ContainerSchema.extend({
  targetContainerName: opt(z.string()),
});

const KeyToPathSchema = z.looseObject({ key: z.string(), path: z.string(), mode: opt(Int32) });

export const VolumeSchema = z.looseObject({
  name: z.string(),
  emptyDir: opt(z.looseObject({ medium: opt(z.string()), sizeLimit: opt(z.union([z.string(), z.number()])) })),
  hostPath: opt(z.looseObject({ path: z.string(), type: opt(z.string()) })),
  configMap: opt(z.looseObject({ name: opt(z.string()), items: opt(z.array(KeyToPathSchema)), defaultMode: opt(Int32), optional: opt(z.boolean()) })),
  secret: opt(z.looseObject({ secretName: opt(z.string()), items: opt(z.array(KeyToPathSchema)), defaultMode: opt(Int32), optional: opt(z.boolean()) })),
  persistentVolumeClaim: opt(z.looseObject({ claimName: z.string(), readOnly: opt(z.boolean()) })),
  downwardAPI: opt(z.looseObject({})),
  projected: opt(z.looseObject({})),
});

export const TolerationSchema = z.looseObject({
  key: opt(z.string()),
  operator: opt(z.string()),
  value: opt(z.string()),
  effect: opt(z.string()),
  tolerationSeconds: opt(Int64),
});

const NodeSelectorRequirementSchema = z.looseObject({ key: z.string(), operator: z.string(), values: opt(z.array(z.string())) });
export const NodeSelectorTermSchema = z.looseObject({
  matchExpressions: opt(z.array(NodeSelectorRequirementSchema)),
  matchFields: opt(z.array(NodeSelectorRequirementSchema)),
});

const PodAffinityTermSchema = z.looseObject({
  labelSelector: opt(LabelSelectorSchema),
  namespaces: opt(z.array(z.string())),
  topologyKey: z.string(),
});

export const AffinitySchema = z.looseObject({
  nodeAffinity: opt(
    z.looseObject({
      requiredDuringSchedulingIgnoredDuringExecution: opt(z.looseObject({ nodeSelectorTerms: z.array(NodeSelectorTermSchema) })),
      preferredDuringSchedulingIgnoredDuringExecution: opt(z.array(z.looseObject({ weight: Int32, preference: NodeSelectorTermSchema }))),
    }),
  ),
  podAffinity: opt(
    z.looseObject({
      requiredDuringSchedulingIgnoredDuringExecution: opt(z.array(PodAffinityTermSchema)),
      preferredDuringSchedulingIgnoredDuringExecution: opt(z.array(z.looseObject({ weight: Int32, podAffinityTerm: PodAffinityTermSchema }))),
    }),
  ),
  podAntiAffinity: opt(
    z.looseObject({
      requiredDuringSchedulingIgnoredDuringExecution: opt(z.array(PodAffinityTermSchema)),
      preferredDuringSchedulingIgnoredDuringExecution: opt(z.array(z.looseObject({ weight: Int32, podAffinityTerm: PodAffinityTermSchema }))),
    }),
  ),
});

export const PodSpecSchema = z.looseObject({
  volumes: opt(z.array(VolumeSchema)),
  initContainers: opt(z.array(ContainerSchema)),
  containers: z.array(ContainerSchema).nullable().optional(),
  ephemeralContainers: opt(z.array(EphemeralContainerSchema)),
  restartPolicy: opt(z.string()),
  terminationGracePeriodSeconds: opt(Int64),
  activeDeadlineSeconds: opt(Int64),
  dnsPolicy: opt(z.string()),
  dnsConfig: opt(PodDNSConfigSchema),
  nodeSelector: opt(z.record(z.string(), z.string())),
  serviceAccountName: opt(z.string()),
  serviceAccount: opt(z.string()),
  automountServiceAccountToken: opt(z.boolean()),
  nodeName: opt(z.string()),
  hostNetwork: opt(z.boolean()),
  hostPID: opt(z.boolean()),
  hostIPC: opt(z.boolean()),
  shareProcessNamespace: opt(z.boolean()),
  hostUsers: opt(z.boolean()),
  os: opt(z.looseObject({ name: z.string() })),
  securityContext: opt(PodSecurityContextSchema),
  imagePullSecrets: opt(z.array(z.looseObject({ name: z.string().optional() }))),
  hostname: opt(z.string()),
  subdomain: opt(z.string()),
  affinity: opt(AffinitySchema),
  schedulerName: opt(z.string()),
  tolerations: opt(z.array(TolerationSchema)),
  hostAliases: opt(z.array(z.looseObject({ ip: z.string(), hostnames: opt(z.array(z.string())) }))),
  priorityClassName: opt(z.string()),
  priority: opt(Int32),
  readinessGates: opt(z.array(z.looseObject({ conditionType: z.string() }))),
  runtimeClassName: opt(z.string()),
  enableServiceLinks: opt(z.boolean()),
  preemptionPolicy: opt(z.string()),
  topologySpreadConstraints: opt(z.array(z.looseObject({}))),
});

export const ContainerStateSchema = z.looseObject({
  waiting: opt(z.looseObject({ reason: opt(z.string()), message: opt(z.string()) })),
  running: opt(z.looseObject({ startedAt: opt(z.string()) })),
  terminated: opt(
    z.looseObject({
      exitCode: Int32,
      signal: opt(Int32),
      reason: opt(z.string()),
      message: opt(z.string()),
      startedAt: opt(z.string()),
      finishedAt: opt(z.string()),
      containerID: opt(z.string()),
    }),
  ),
});

export const ContainerStatusSchema = z.looseObject({
  name: z.string(),
  state: opt(ContainerStateSchema),
  lastState: opt(ContainerStateSchema),
  ready: z.boolean(),
  restartCount: Int32,
  image: z.string(),
  imageID: z.string(),
  containerID: opt(z.string()),
  started: opt(z.boolean()),
});

export const PodStatusSchema = z.looseObject({
  phase: opt(z.string()),
  conditions: opt(z.array(ConditionSchema)),
  message: opt(z.string()),
  reason: opt(z.string()),
  nominatedNodeName: opt(z.string()),
  hostIP: opt(z.string()),
  hostIPs: opt(z.array(z.looseObject({ ip: z.string() }))),
  podIP: opt(z.string()),
  podIPs: opt(z.array(z.looseObject({ ip: z.string() }))),
  startTime: opt(z.string()),
  initContainerStatuses: opt(z.array(ContainerStatusSchema)),
  containerStatuses: opt(z.array(ContainerStatusSchema)),
  ephemeralContainerStatuses: opt(z.array(ContainerStatusSchema)),
  qosClass: opt(z.string()),
  observedGeneration: opt(Int64),
});

export const PodTemplateSpecSchema = z.looseObject({
  metadata: ObjectMetaSchema.optional(),
  spec: PodSpecSchema.optional(),
});

export const PodSchema = TypeMetaSchema.extend({
  spec: PodSpecSchema.optional(),
  status: PodStatusSchema.optional(),
});

export type Pod = z.infer<typeof PodSchema>;
export type PodSpec = z.infer<typeof PodSpecSchema>;
export type PodStatus = z.infer<typeof PodStatusSchema>;
export type PodTemplateSpec = z.infer<typeof PodTemplateSpecSchema>;
export type Container = z.infer<typeof ContainerSchema>;
export type EphemeralContainer = z.infer<typeof EphemeralContainerSchema>;
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;
export type ContainerState = z.infer<typeof ContainerStateSchema>;
export type Probe = z.infer<typeof ProbeSchema>;
export type Volume = z.infer<typeof VolumeSchema>;
export type Toleration = z.infer<typeof TolerationSchema>;
export type EnvVar = z.infer<typeof EnvVarSchema>;
export type LifecycleHandler = z.infer<typeof LifecycleHandlerSchema>;
