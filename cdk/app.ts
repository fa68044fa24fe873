/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file).
 * Settings come from context (`-c key=value`): stackName (default Kumo),
 * nodeInstanceType, minNodes, maxNodes, desiredNodes, nodePool=false,
 * podLogs=true, deletionProtection=false, alarmEmail, apiMemorySize,
 * secretsEncryption=true, cadence=economy|kubernetes, controlLoopMetrics=false,
 * podSecurityEnforce=privileged|baseline|restricted (the default enforced
 * level; warn stays restricted, the admin token exempt), reservedConcurrency=false,
 * apiConcurrency, controllersConcurrency, schedulerConcurrency. Synthesis needs no AWS
 * credentials and no network: the account and region are resolved at deploy
 * time.
 */
import { App } from 'aws-cdk-lib';
import { type Cadence, CADENCES } from './cadence.js';
import { ADMIN_TOKEN_ID, KumoStack, type KumoStackProps } from './kumo-stack.js';
import { LEVELS } from '../lib/apiserver/podsecurity/levels.js';
import { stackPodSecurity } from '../lib/cloud/config.js';

const app = new App();

function context(key: string): string | undefined {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function flag(key: string): boolean | undefined {
  const v = context(key);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new Error(`context ${key} must be true or false, got "${v}"`);
  return v === 'true';
}

function count(key: string): number | undefined {
  const v = context(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`context ${key} must be a whole number, got "${v}"`);
  return n;
}

function cadence(): Cadence | undefined {
  const v = context('cadence');
  if (v === undefined) return undefined;
  if (!(CADENCES as readonly string[]).includes(v)) throw new Error(`context cadence must be one of ${CADENCES.join(', ')}, got "${v}"`);
  return v as Cadence;
}

/** The stack's Pod Security defaults with another enforced level. */
function podSecurity(): KumoStackProps['podSecurity'] {
  const v = context('podSecurityEnforce');
  if (v === undefined) return undefined;
  if (!(LEVELS as readonly string[]).includes(v)) throw new Error(`context podSecurityEnforce must be one of ${LEVELS.join(', ')}, got "${v}"`);
  const base = stackPodSecurity(ADMIN_TOKEN_ID);
  return { ...base, defaults: { ...base.defaults, enforce: v } };
}

const props: KumoStackProps = {
  description: 'kumo: a Kubernetes-compatible orchestrator with a serverless control plane',
};
const settings: Partial<Record<keyof KumoStackProps, unknown>> = {
  deletionProtection: flag('deletionProtection'),
  nodePool: flag('nodePool'),
  podLogs: flag('podLogs'),
  nodeInstanceType: context('nodeInstanceType'),
  minNodes: count('minNodes'),
  maxNodes: count('maxNodes'),
  desiredNodes: count('desiredNodes'),
  alarmEmail: context('alarmEmail'),
  apiMemorySize: count('apiMemorySize'),
  secretsEncryption: flag('secretsEncryption'),
  cadence: cadence(),
  controlLoopMetrics: flag('controlLoopMetrics'),
  podSecurity: podSecurity(),
  reservedConcurrency: flag('reservedConcurrency'),
  apiConcurrency: count('apiConcurrency'),
  controllersConcurrency: count('controllersConcurrency'),
  schedulerConcurrency: count('schedulerConcurrency'),
};
for (const [k, v] of Object.entries(settings)) if (v !== undefined) Object.assign(props, { [k]: v });

new KumoStack(app, context('stackName') ?? 'Kumo', props);
app.synth();
