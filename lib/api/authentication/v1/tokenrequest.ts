export { TokenRequestSchema, type TokenRequest, type BoundObjectReference } from './shapes.generated.js';
