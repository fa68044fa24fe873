/** core/v1 ReplicationController: the ReplicaSet's predecessor, with a map selector; generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export {
  ReplicationControllerSchema,
  ReplicationControllerSpecSchema,
  ReplicationControllerStatusSchema,
  type ReplicationController,
} from './shapes.generated.js';
