/** policy/v1 PodDisruptionBudget and Eviction (the pods/eviction body), generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export {
  EvictionSchema,
  PodDisruptionBudgetSchema,
  PodDisruptionBudgetSpecSchema,
  PodDisruptionBudgetStatusSchema,
  type Eviction,
  type PodDisruptionBudget,
  type PodDisruptionBudgetStatus,
} from './shapes.generated.js';
