/**
 * The one logger (lib/log/logger.ts): the same record as Powertools' Logger
 * writes in Lambda, the request's auditID on every record about an API
 * request (over real HTTP and through the Lambda front door, matching the
 * Audit-Id the client gets; a 500's record: test/apiserver/bounds.test.ts),
 * and the Lambda request id on a function's records.
 */
import type { AddressInfo } from 'node:net';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { createApiHttpServer } from '#lib/apiserver/http';
import { lambdaFrontDoor } from '#lib/apiserver/lambda';
import { ApiServer } from '#lib/apiserver/server';
import { TokenAuthenticator } from '#lib/auth/authenticator';
import { jsonLogger } from '#lib/log/logger';
import { SqliteStore } from '#lib/store/sqlite';
import { functionUrlEvent, invocationContext } from '../functions/events.js';
import { captureLogger, type LogRecord } from '../helpers/logger.js';
import { newKindRegistry } from '#lib/kinds/index';

/** What a stream (stdout or stderr) of this process gets written while `work` runs. */
async function written(stream: NodeJS.WriteStream, work: () => unknown): Promise<LogRecord[]> {
  const chunks: string[] = [];
  const spy = vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogRecord);
}

describe('a record', () => {
  it("is Powertools' own: the same keys, in the same order, as its Logger writes in Lambda", async () => {
    const [theirs] = await written(process.stdout, () => new PowertoolsLogger({ serviceName: 'api' }).info('hello', { auditID: 'a-1' }));
    const lines: string[] = [];
    jsonLogger({ service: 'api', sink: (l) => lines.push(l) }).info('hello', { auditID: 'a-1' });
    const ours = JSON.parse(lines[0]!) as LogRecord;
    expect(Object.keys(ours)).toEqual(Object.keys(theirs!));
    expect({ ...ours, timestamp: '' }).toEqual({ ...theirs, timestamp: '' });
    expect(ours).toMatchObject({ level: 'INFO', message: 'hello', service: 'api', auditID: 'a-1' });
  });

  it('is written at or above its level only, with an error as name, message and stack', () => {
    const { logger, records } = captureLogger('INFO');
    logger.debug('not written');
    logger.warn('retrying');
    logger.error('failed', { error: new Error('disk on fire') });
    expect(records.map((r) => [r.level, r.message])).toEqual([
      ['WARN', 'retrying'],
      ['ERROR', 'failed'],
    ]);
    expect(records[1]!.error).toMatchObject({ name: 'Error', message: 'disk on fire', stack: expect.stringContaining('disk on fire') });
  });
});

describe('every record about an API request carries its auditID, the one the client gets', () => {
  const log = captureLogger();
  let url = '';
  let close: () => Promise<void>;

  beforeAll(async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const authenticator = new TokenAuthenticator({ logger: log.logger });
    const api = new ApiServer({ store, logger: log.logger, authenticator });
    await bootstrap(api.rest);
    const server = createApiHttpServer(api, { logger: log.logger });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        void store.close();
      });
  });
  afterAll(() => close());

  it('a refused token: 401 to the client, the reason in a WARN record with its auditID', async () => {
    log.records.length = 0;
    const res = await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const id = res.headers.get('audit-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(log.records).toEqual([expect.objectContaining({ level: 'WARN', message: 'kumo auth: refused: malformed token', auditID: id })]);
  });

  it("keeps the client's own Audit-ID, so its report and the log meet", async () => {
    log.records.length = 0;
    const res = await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: 'Bearer not-a-token', 'audit-id': 'report-42' } });
    expect(res.headers.get('audit-id')).toBe('report-42');
    expect(log.records.map((r) => r.auditID)).toEqual(['report-42']);
  });

  it('through the Lambda front door too, when the server cannot start', async () => {
    const { logger, records } = captureLogger();
    const door = lambdaFrontDoor(() => Promise.reject(new Error('no store configured')), { logger, kinds: newKindRegistry() });
    const res = await door.buffered(functionUrlEvent('GET', '/api/v1/namespaces'), invocationContext());
    expect(res.statusCode).toBe(500);
    expect(records).toEqual([expect.objectContaining({ level: 'ERROR', auditID: (res.headers as Record<string, string>)['audit-id'] })]);
    expect(records[0]!.auditID).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("a function's records", () => {
  it('carry the Lambda request id and the function as service', async () => {
    vi.stubEnv('KUMO_SQLITE_PATH', ':memory:');
    const { handler } = await import('../../functions/controllers.js');
    // A change-log record whose data is not what the store writes: logged, skipped, never retried.
    const event = {
      Records: [
        {
          eventID: 'broken-1',
          eventName: 'INSERT',
          dynamodb: { NewImage: { pk: { S: 'l#pods' }, sk: { S: '7' }, type: { S: 'ADDED' }, data: { B: Buffer.from('not a change').toString('base64') } } },
        },
      ],
    } as unknown as DynamoDBStreamEvent;
    const context = invocationContext();
    let result: unknown;
    const records = await written(process.stderr, async () => (result = await handler(event, context)));
    vi.unstubAllEnvs();
    expect(result).toEqual({ batchItemFailures: [] });
    expect(records).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringMatching(/^kumo stream: undecodable record broken-1: /),
        service: 'controllers',
        function_request_id: context.awsRequestId,
        function_name: context.functionName,
      }),
    ]);
  });
});
