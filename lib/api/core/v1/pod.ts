/**
 * core/v1 Pod and the shapes inside it, generated from k8s.io/api
 * (shapes.generated.ts, docs/schemas.md; what kumo requires beyond Go's
 * decoder, such as a container's name, is in scripts/k8s-zod-rules.mjs);
 * kumo's code imports them from here. An EphemeralContainer is added to a
 * running pod for debugging (`kubectl debug`) through the
 * pods/ephemeralcontainers subresource only.
 */
export {
  AffinitySchema,
  ContainerPortSchema,
  ContainerSchema,
  ContainerStateSchema,
  ContainerStatusSchema,
  EnvFromSourceSchema,
  EnvVarSchema,
  EphemeralContainerSchema,
  ExecActionSchema,
  GRPCActionSchema,
  HTTPGetActionSchema,
  HTTPHeaderSchema,
  LifecycleHandlerSchema,
  NodeSelectorTermSchema,
  PodSchema,
  PodSpecSchema,
  PodStatusSchema,
  PodTemplateSpecSchema,
  ProbeSchema,
  ResourceRequirementsSchema,
  TCPSocketActionSchema,
  TolerationSchema,
  VolumeMountSchema,
  VolumeSchema,
  type Affinity,
  type Container,
  type ContainerState,
  type ContainerStatus,
  type EnvVar,
  type EphemeralContainer,
  type LifecycleHandler,
  type Pod,
  type PodSpec,
  type PodStatus,
  type PodTemplateSpec,
  type Probe,
  type Toleration,
  type Volume,
} from './shapes.generated.js';

/** The reason of the Ready=False condition the node lifecycle controller puts on the pods of an unreachable node (MarkPodsNotReady). */
export const POD_NODE_NOT_READY = 'NodeNotReady';
