export {
  IngressSchema,
  type HTTPIngressPath,
  type Ingress,
  type IngressBackend,
  type IngressLoadBalancerStatus,
  type IngressRule,
  type IngressSpec,
  type IngressTLS,
} from './shapes.generated.js';
