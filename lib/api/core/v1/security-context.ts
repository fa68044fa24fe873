/**
 * Pod and container security contexts, typed: Pod Security Admission
 * (lib/apiserver/podsecurity) decides on these fields, so a value of the
 * wrong type (`privileged: "true"`) must be refused when the body is decoded,
 * as Kubernetes' decoder refuses it, never read as truthy. The schemas are
 * generated from k8s.io/api, like every field of a pod.
 */
export {
  AppArmorProfileSchema,
  PodSecurityContextSchema,
  SELinuxOptionsSchema,
  SeccompProfileSchema,
  SecurityContextSchema,
  WindowsSecurityContextOptionsSchema,
  type PodSecurityContext,
  type SecurityContext,
} from './shapes.generated.js';
