/** apps/v1 StatefulSet: a set of pods with stable identities and claims, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { StatefulSetSchema, type StatefulSet, type StatefulSetSpec, type StatefulSetStatus } from './shapes.generated.js';
