export {
  ResourceQuotaSchema,
  type ResourceQuota,
  type ResourceQuotaSpec,
  type ResourceQuotaStatus,
  type ScopedResourceSelectorRequirement,
} from './shapes.generated.js';
