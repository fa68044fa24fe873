/** admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and its binding, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export {
  ValidatingAdmissionPolicyBindingSchema,
  ValidatingAdmissionPolicySchema,
  type MatchResources,
  type NamedRuleWithOperations,
  type ParamRef,
  type ValidatingAdmissionPolicy,
  type ValidatingAdmissionPolicyBinding,
  type Validation,
  type Variable,
} from './shapes.generated.js';
