export {
  DeploymentSchema,
  DeploymentSpecSchema,
  DeploymentStatusSchema,
  DeploymentStrategySchema,
  type Deployment,
  type DeploymentSpec,
  type DeploymentStatus,
} from './shapes.generated.js';
