export { ServicePortSchema, ServiceSchema, ServiceSpecSchema, type Service, type ServicePort } from './shapes.generated.js';
