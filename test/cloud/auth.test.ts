/**
 * Every authentication and authorization case, through the deployed API
 * bundle's RESPONSE_STREAM handler invoked with Function URL events, on the
 * DynamoDB store on the emulator, with the admin and bootstrap tokens read
 * from Secrets Manager as the deployed function reads them.
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { authCases, type Wire } from '../auth/cases.js';
import { functionUrlEvent, invocationContext, parseStreamed, RecordingStream } from '../functions/events.js';
import { type ApiModule, type CloudAccount, deployToEmulator, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();
let api: ApiModule;

beforeAll(async () => {
  if (account) api = await loadBundle<ApiModule>(bundles.api);
});
afterAll(async () => {
  await account?.dispose();
});

async function send(method: string, path: string, opts: { token?: string; body?: unknown; contentType?: string; header?: string } = {}): Promise<{ status: number; body: Wire }> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.header !== undefined) headers.authorization = opts.header;
  const event = functionUrlEvent(method, path, {
    ...(opts.body !== undefined ? { body: opts.body as object, contentType: opts.contentType ?? 'application/json' } : {}),
    headers,
  });
  const stream = new RecordingStream();
  await api.streamingHandler(event, stream, invocationContext(30_000));
  await stream.finished();
  const { prelude, body } = parseStreamed(stream.bytes);
  return { status: prelude.statusCode, body: body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined };
}

if (account) {
  authCases('the deployed API bundle on DynamoDB', () => ({ send, adminToken: account.adminToken, bootstrapToken: account.bootstrapToken }));
}
