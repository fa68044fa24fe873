export { LimitRangeSchema, type LimitRange, type LimitRangeItem } from './shapes.generated.js';
