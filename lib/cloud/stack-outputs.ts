/**
 * The outputs of the kumo CloudFormation stack that tools read (`kumo
 * kubeconfig --stack`): one list, so the stack and its readers agree.
 */
export const STACK_OUTPUTS = {
  /** The API server's HTTPS endpoint (the Function URL). */
  apiUrl: 'ApiUrl',
  /** The Secrets Manager secret holding the deploy-time admin token. */
  adminTokenSecretArn: 'AdminTokenSecretArn',
  tableName: 'TableName',
  clusterName: 'NodeClusterName',
  nodeGroupName: 'NodeAutoScalingGroupName',
  alarmTopicArn: 'AlarmTopicArn',
} as const;
