/** apps/v1 ControllerRevision: an immutable snapshot of a StatefulSet's or DaemonSet's template, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { ControllerRevisionSchema, type ControllerRevision } from './shapes.generated.js';
