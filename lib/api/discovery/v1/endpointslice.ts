/** An endpoint's conditions left unset (null) mean "unknown", which consumers read as true for ready and serving. */
export {
  EndpointConditionsSchema,
  EndpointPortSchema as EndpointSlicePortSchema,
  EndpointSchema,
  EndpointSliceSchema,
  type Endpoint,
  type EndpointPort as EndpointSlicePort,
  type EndpointSlice,
} from './shapes.generated.js';

/** The label naming a slice's Service, and the one naming the controller that manages it. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
