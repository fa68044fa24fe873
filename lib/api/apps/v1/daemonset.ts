/** apps/v1 DaemonSet: one pod per eligible node, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export {
  DaemonSetSchema,
  DaemonSetSpecSchema,
  DaemonSetStatusSchema,
  type DaemonSet,
  type DaemonSetSpec,
  type DaemonSetStatus,
  type RollingUpdateDaemonSet,
} from './shapes.generated.js';
