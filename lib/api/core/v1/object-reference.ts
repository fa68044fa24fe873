export { ObjectReferenceSchema, type ObjectReference } from './shapes.generated.js';
