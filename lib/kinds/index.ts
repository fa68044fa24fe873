/**
 * The built-in kinds, one module each, in discovery order, and the registry
 * built from them. A server gets its own registry (`newKindRegistry()`) so
 * that what it adds at run time (custom resources) is its own.
 */
import { ResourceRegistry } from '../api/registry.js';
import { configMapKind } from './configmap.js';
import { cronJobKind } from './cronjob.js';
import { csiDriverKind } from './csidriver.js';
import { customResourceDefinitionKind } from './customresourcedefinition.js';
import { controllerRevisionKind } from './controllerrevision.js';
import { daemonSetKind } from './daemonset.js';
import { deploymentKind } from './deployment.js';
import { endpointsKind } from './endpoints.js';
import { endpointSliceKind } from './endpointslice.js';
import { eventKind } from './event.js';
import { horizontalPodAutoscalerKind } from './horizontalpodautoscaler.js';
import { horizontalPodAutoscalerV1Kind } from './horizontalpodautoscaler-v1.js';
import { ingressKind } from './ingress.js';
import { ingressClassKind } from './ingressclass.js';
import { jobKind } from './job.js';
import type { Kind } from './kind.js';
import { leaseKind } from './lease.js';
import { limitRangeKind } from './limitrange.js';
import { namespaceKind } from './namespace.js';
import { networkPolicyKind } from './networkpolicy.js';
import { nodeKind } from './node.js';
import { persistentVolumeKind } from './persistentvolume.js';
import { persistentVolumeClaimKind } from './persistentvolumeclaim.js';
import { podKind } from './pod.js';
import { priorityClassKind } from './priorityclass.js';
import { replicaSetKind } from './replicaset.js';
import { resourceQuotaKind } from './resourcequota.js';
import { replicationControllerKind } from './replicationcontroller.js';
import { podTemplateKind } from './podtemplate.js';
import { podDisruptionBudgetKind } from './poddisruptionbudget.js';
import { clusterRoleKind } from './clusterrole.js';
import { clusterRoleBindingKind } from './clusterrolebinding.js';
import { roleKind } from './role.js';
import { roleBindingKind } from './rolebinding.js';
import { secretKind } from './secret.js';
import { serviceKind } from './service.js';
import { serviceAccountKind } from './serviceaccount.js';
import { statefulSetKind } from './statefulset.js';
import { validatingAdmissionPolicyBindingKind, validatingAdmissionPolicyKind } from './validatingadmissionpolicy.js';
import { mutatingWebhookConfigurationKind, validatingWebhookConfigurationKind } from './webhookconfiguration.js';
import { tokenReviewKind } from './tokenreview.js';
import { selfSubjectReviewKind } from './selfsubjectreview.js';
import { subjectAccessReviewKind } from './subjectaccessreview.js';
import { localSubjectAccessReviewKind } from './localsubjectaccessreview.js';
import { selfSubjectAccessReviewKind } from './selfsubjectaccessreview.js';
import { selfSubjectRulesReviewKind } from './selfsubjectrulesreview.js';
import { storageClassKind } from './storageclass.js';
import { volumeAttachmentKind } from './volumeattachment.js';

export type KindRegistry = ResourceRegistry<Kind>;

export const builtinKinds: readonly Kind[] = [
  podKind,
  nodeKind,
  namespaceKind,
  eventKind,
  configMapKind,
  secretKind,
  serviceKind,
  deploymentKind,
  replicaSetKind,
  statefulSetKind,
  daemonSetKind,
  controllerRevisionKind,
  jobKind,
  cronJobKind,
  horizontalPodAutoscalerKind,
  horizontalPodAutoscalerV1Kind,
  leaseKind,
  endpointsKind,
  endpointSliceKind,
  persistentVolumeClaimKind,
  persistentVolumeKind,
  storageClassKind,
  csiDriverKind,
  volumeAttachmentKind,
  priorityClassKind,
  replicationControllerKind,
  podTemplateKind,
  podDisruptionBudgetKind,
  resourceQuotaKind,
  limitRangeKind,
  tokenReviewKind,
  selfSubjectReviewKind,
  subjectAccessReviewKind,
  localSubjectAccessReviewKind,
  selfSubjectAccessReviewKind,
  selfSubjectRulesReviewKind,
  serviceAccountKind,
  ingressKind,
  ingressClassKind,
  networkPolicyKind,
  customResourceDefinitionKind,
  mutatingWebhookConfigurationKind,
  validatingWebhookConfigurationKind,
  validatingAdmissionPolicyKind,
  validatingAdmissionPolicyBindingKind,
  clusterRoleBindingKind,
  clusterRoleKind,
  roleBindingKind,
  roleKind,
];

/** A registry holding the built-in kinds, for one server (or controller process) to grow. */
export function newKindRegistry(): KindRegistry {
  return new ResourceRegistry(builtinKinds);
}
