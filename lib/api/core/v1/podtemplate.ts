/** core/v1 PodTemplate: a stored pod template, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { PodTemplateSchema, type PodTemplate } from './shapes.generated.js';
