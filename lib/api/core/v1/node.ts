export { NodeAddressSchema, NodeSchema, NodeSpecSchema, NodeStatusSchema, TaintSchema, type Node, type Taint } from './shapes.generated.js';
