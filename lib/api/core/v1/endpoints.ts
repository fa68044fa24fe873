export {
  EndpointAddressSchema,
  EndpointPortSchema,
  EndpointSubsetSchema,
  EndpointsSchema,
  ObjectReferenceSchema,
  type EndpointAddress,
  type EndpointSubset,
  type Endpoints,
  type ObjectReference,
} from './shapes.generated.js';
