/**
 * Real-shaped Lambda inputs for driving functions/api.ts in-process: Function
 * URL events (API Gateway HTTP API payload v2, as the service sends them:
 * lower-case headers, raw path and query, base64 for binary bodies) and an
 * invocation context with a real deadline. Also the reader for what a
 * RESPONSE_STREAM handler writes.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface EventOptions {
  body?: string | Uint8Array | object;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  /** Send the body base64-encoded, as Function URLs do for binary content types. */
  base64?: boolean;
}

const DOMAIN = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws';

export function functionUrlEvent(method: string, pathAndQuery: string, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  const q = pathAndQuery.indexOf('?');
  const rawPath = q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery;
  const rawQueryString = q >= 0 ? pathAndQuery.slice(q + 1) : '';
  const userAgent = 'kubectl/v1.35.2 (linux/amd64) kubernetes/6f0b9b7';
  const headers: Record<string, string> = {
    host: DOMAIN,
    'user-agent': userAgent,
    'accept-encoding': 'gzip',
    'x-amzn-trace-id': `Root=1-${Date.now().toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    'x-forwarded-for': '203.0.113.9',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...(opts.accept ? { accept: opts.accept } : {}),
  };
  let body: string | undefined;
  if (opts.body !== undefined) {
    const raw =
      typeof opts.body === 'string'
        ? Buffer.from(opts.body)
        : opts.body instanceof Uint8Array
          ? Buffer.from(opts.body)
          : Buffer.from(JSON.stringify(opts.body));
    body = opts.base64 ? raw.toString('base64') : raw.toString('utf8');
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(raw.length);
  }
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = query[k] !== undefined ? `${query[k]},${v}` : v;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: DOMAIN.split('.')[0]!,
      domainName: DOMAIN,
      domainPrefix: DOMAIN.split('.')[0]!,
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: opts.base64 ?? false,
  };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function invocationContext(timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'kumo-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:kumo-api',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/kumo-api',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * A real Writable that records what a streaming handler writes, in order,
 * with the time each chunk arrived.
 */
export class RecordingStream extends Writable {
  readonly chunks: { at: number; bytes: Buffer }[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push({ at: Date.now(), bytes: Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk) });
    callback();
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.bytes));
  }

  /** Waits until the handler ended the stream. */
  finished(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.writableFinished) return resolve();
      this.once('finish', () => resolve());
      this.once('error', reject);
    });
  }
}

export interface StreamedResponse {
  prelude: { statusCode: number; headers: Record<string, string> };
  body: Buffer;
}

/**
 * Splits what a RESPONSE_STREAM handler wrote into the HTTP integration
 * prelude (JSON, then 8 NUL bytes) and the body.
 */
export function parseStreamed(bytes: Buffer): StreamedResponse {
  const delimiter = Buffer.alloc(8);
  const at = bytes.indexOf(delimiter);
  if (at < 0) throw new Error(`no prelude delimiter in ${JSON.stringify(bytes.toString('utf8').slice(0, 200))}`);
  return { prelude: JSON.parse(bytes.subarray(0, at).toString('utf8')), body: bytes.subarray(at + 8) };
}

/** Newline-delimited JSON values. */
export function ndjson(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}
