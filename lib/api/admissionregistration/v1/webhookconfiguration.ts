/** admissionregistration.k8s.io/v1 Mutating/ValidatingWebhookConfiguration, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export {
  MutatingWebhookConfigurationSchema,
  ValidatingWebhookConfigurationSchema,
  type MatchCondition,
  type MutatingWebhook,
  type MutatingWebhookConfiguration,
  type RuleWithOperations,
  type ServiceReference,
  type ValidatingWebhook,
  type ValidatingWebhookConfiguration,
  type WebhookClientConfig,
} from './shapes.generated.js';
