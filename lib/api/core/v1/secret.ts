export { SecretSchema, type Secret } from './shapes.generated.js';
