export { IngressClassSchema, type IngressClass, type IngressClassParametersReference } from './shapes.generated.js';
