export { ReplicaSetSchema, ReplicaSetSpecSchema, ReplicaSetStatusSchema, type ReplicaSet } from './shapes.generated.js';
