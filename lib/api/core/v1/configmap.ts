export { ConfigMapSchema, type ConfigMap } from './shapes.generated.js';
