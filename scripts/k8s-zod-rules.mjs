// What kumo's schemas add to the Go types (scripts/k8s-zod.mjs reads it).
// Go's decoder takes a missing or null field everywhere (it leaves the zero
// value); kumo's code relies on a few being there, and refuses a body
// without them when it is decoded, worded as Go words a type error (see
// lib/apiserver/decode.ts typeMismatch). Everything else in a kind's shape,
// every field name and JSON type, comes from k8s.io/api.
//
// Keys are generated struct names (`core/v1.Container`); fields are JSON
// names, those of inline structs included (ConfigMapKeySelector's `name` is
// LocalObjectReference's). A kind's `metadata` is always required and its
// `spec` and `status` never null: k8s-zod.mjs says so for every kind.

/** Fields that must be present and not null. */
export const REQUIRED = {
  'apps/v1.DeploymentCondition': ['type', 'status'],
  'apps/v1.ReplicaSetCondition': ['type', 'status'],
  'batch/v1.JobCondition': ['type', 'status'],
  'core/v1.AWSElasticBlockStoreVolumeSource': ['volumeID'],
  'core/v1.AppArmorProfile': ['type'],
  'core/v1.CSIPersistentVolumeSource': ['driver', 'volumeHandle'],
  'core/v1.ConfigMapKeySelector': ['key'],
  'core/v1.Container': ['name'],
  'core/v1.ContainerPort': ['containerPort'],
  'core/v1.ContainerStateTerminated': ['exitCode'],
  'core/v1.ContainerStatus': ['name', 'ready', 'restartCount', 'image', 'imageID'],
  'core/v1.DaemonEndpoint': ['Port'],
  'core/v1.EndpointAddress': ['ip'],
  'core/v1.EndpointPort': ['port'],
  'core/v1.EnvVar': ['name'],
  'core/v1.EphemeralContainer': ['name'],
  'core/v1.Event': ['involvedObject'],
  'core/v1.GRPCAction': ['port'],
  'core/v1.HTTPGetAction': ['port'],
  'core/v1.HTTPHeader': ['name', 'value'],
  'core/v1.HostAlias': ['ip'],
  'core/v1.HostIP': ['ip'],
  'core/v1.HostPathVolumeSource': ['path'],
  'core/v1.KeyToPath': ['key', 'path'],
  'core/v1.LocalVolumeSource': ['path'],
  'core/v1.NamespaceCondition': ['type', 'status'],
  'core/v1.NodeAddress': ['type', 'address'],
  'core/v1.NodeCondition': ['type', 'status'],
  'core/v1.NodeSelector': ['nodeSelectorTerms'],
  'core/v1.NodeSelectorRequirement': ['key', 'operator'],
  'core/v1.ObjectFieldSelector': ['fieldPath'],
  'core/v1.PersistentVolumeClaimCondition': ['type', 'status'],
  'core/v1.PersistentVolumeClaimVolumeSource': ['claimName'],
  'core/v1.PodAffinityTerm': ['topologyKey'],
  'core/v1.PodCondition': ['type', 'status'],
  'core/v1.PodIP': ['ip'],
  'core/v1.PodOS': ['name'],
  'core/v1.PodReadinessGate': ['conditionType'],
  'core/v1.PreferredSchedulingTerm': ['weight', 'preference'],
  'core/v1.ResourceFieldSelector': ['resource'],
  'core/v1.SeccompProfile': ['type'],
  'core/v1.SecretKeySelector': ['key'],
  'core/v1.ServicePort': ['port'],
  'core/v1.SleepAction': ['seconds'],
  'core/v1.Sysctl': ['name', 'value'],
  'core/v1.TCPSocketAction': ['port'],
  'core/v1.Taint': ['key', 'effect'],
  'core/v1.TypedLocalObjectReference': ['kind', 'name'],
  'core/v1.Volume': ['name'],
  'core/v1.VolumeMount': ['name', 'mountPath'],
  'core/v1.WeightedPodAffinityTerm': ['weight', 'podAffinityTerm'],
  'discovery/v1.Endpoint': ['addresses'],
  'discovery/v1.EndpointSlice': ['addressType'],
  'meta/v1.Condition': ['type', 'status'],
  'meta/v1.LabelSelectorRequirement': ['key', 'operator'],
  'meta/v1.OwnerReference': ['apiVersion', 'kind', 'name', 'uid'],
};

/** Fields that may be left out but not sent as null. */
export const NOT_NULL = {
  'apps/v1.DeploymentCondition': ['reason', 'message'],
  'apps/v1.ReplicaSetCondition': ['reason', 'message'],
  'batch/v1.JobCondition': ['reason', 'message'],
  'core/v1.ConfigMapEnvSource': ['name'],
  'core/v1.ConfigMapKeySelector': ['name'],
  'core/v1.LocalObjectReference': ['name'],
  'core/v1.NamespaceCondition': ['reason', 'message'],
  'core/v1.NodeCondition': ['reason', 'message'],
  'core/v1.ObjectFieldSelector': ['apiVersion'],
  'core/v1.PersistentVolumeClaimCondition': ['reason', 'message'],
  'core/v1.PodCondition': ['observedGeneration', 'reason', 'message'],
  'core/v1.PodTemplateSpec': ['metadata', 'spec'],
  'core/v1.ResourceFieldSelector': ['containerName'],
  'core/v1.SecretEnvSource': ['name'],
  'core/v1.SecretKeySelector': ['name'],
  'meta/v1.Condition': ['observedGeneration', 'reason', 'message'],
  'meta/v1.ManagedFieldsEntry': ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource'],
  'meta/v1.ObjectMeta': ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation'],
  'meta/v1.OwnerReference': ['controller', 'blockOwnerDeletion'],
};
