export { EventSchema, type Event } from './shapes.generated.js';
