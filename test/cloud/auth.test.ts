/**
 * Every authentication and authorization case, through the deployed API
 * bundle's RESPONSE_STREAM handler invoked with Function URL events, on the
 * DynamoDB store on the emulator, with the admin and bootstrap tokens read
 * from Secrets Manager as the deployed function reads them.
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { stackPodSecurity } from '#lib/cloud/config';
import { authCases } from '../auth/cases.js';
import { metricsCases } from '../auth/metrics-cases.js';
import { podSecurityCases } from '../auth/pod-security-cases.js';
import { serviceAccountCases } from '../auth/serviceaccount-cases.js';
import { type ApiModule, type CloudAccount, deployToEmulator, invoke, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
// The stack's Pod Security defaults, as it sets them for the API function (test/cdk asserts it does).
const account: CloudAccount | undefined = await deployToEmulator({ KUMO_POD_SECURITY: JSON.stringify(stackPodSecurity('admin')) });
let api: ApiModule;

beforeAll(async () => {
  if (account) api = await loadBundle<ApiModule>(bundles.api);
});
afterAll(async () => {
  await account?.dispose();
});

function send(method: string, path: string, opts: { token?: string; body?: unknown; contentType?: string; header?: string } = {}) {
  return invoke(api, method, path, opts);
}

if (account) {
  authCases('the deployed API bundle on DynamoDB', () => ({ send, adminToken: account.adminToken, bootstrapToken: account.bootstrapToken }));
  metricsCases('the deployed API bundle on DynamoDB', () => ({ send, adminToken: account.adminToken, bootstrapToken: account.bootstrapToken }));
  podSecurityCases('the deployed API bundle on DynamoDB', () => ({ send, adminToken: account.adminToken, bootstrapToken: account.bootstrapToken }));
  serviceAccountCases('the deployed API bundle on DynamoDB, its key from Secrets Manager', () => ({
    send,
    adminToken: account.adminToken,
    bootstrapToken: account.bootstrapToken,
    serviceAccountKeySeed: account.serviceAccountKeySecretString,
  }));
}
