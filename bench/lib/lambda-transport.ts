/**
 * A client Transport that reaches the API server through its Lambda front
 * door (lib/apiserver/lambda.ts, buffered mode, as behind a Function URL):
 * each request becomes a Function URL event, and a watch becomes the
 * long-poll the front door answers with (events until the poll window
 * closes, then a bookmark). It runs in-process, so the benchmarks can count
 * what every client request costs in the cloud: one invocation, its
 * duration, and the DynamoDB calls it makes (bench/lib/meter.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { gunzipSync } from 'node:zlib';
import { decodeBody, type Transport, type TransportRequest, type TransportResponse } from '#lib/client/transport';

export type Invoke = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Called around every invocation (the cost meter wraps it to attribute DynamoDB calls). */
export type InvocationWrapper = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

function eventOf(req: TransportRequest, userAgent: string): APIGatewayProxyEventV2 {
  const rawQueryString = req.query?.toString() ?? '';
  const headers: Record<string, string> = {
    host: 'bench.lambda-url.us-east-1.on.aws',
    'user-agent': userAgent,
    accept: req.accept ?? 'application/json',
    'x-forwarded-proto': 'https',
  };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    headers['content-type'] = req.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: req.path,
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: headers.host!,
      domainPrefix: 'bench',
      http: { method: req.method, path: req.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent },
      requestId: `${now.getTime()}-${Math.random().toString(36).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

function bodyText(res: APIGatewayProxyStructuredResultV2): string {
  if (res.body === undefined) return '';
  let raw = res.isBase64Encoded ? Buffer.from(res.body, 'base64') : Buffer.from(res.body, 'utf8');
  const encoding = String(res.headers?.['content-encoding'] ?? '');
  if (encoding.includes('gzip')) raw = gunzipSync(raw);
  return raw.toString('utf8');
}

function parse(res: APIGatewayProxyStructuredResultV2): unknown {
  return decodeBody(bodyText(res), String(res.headers?.['content-type'] ?? ''));
}

export class LambdaTransport implements Transport {
  constructor(
    private readonly invoke: Invoke,
    private readonly opts: { userAgent?: string; wrap?: InvocationWrapper; name?: string } = {},
  ) {}

  private call(req: TransportRequest): Promise<APIGatewayProxyStructuredResultV2> {
    const event = eventOf(req, this.opts.userAgent ?? 'kumo-bench');
    const run = () => this.invoke(event);
    return this.opts.wrap ? this.opts.wrap(this.opts.name ?? 'api', run) : run();
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.call(req);
    return { status: res.statusCode ?? 0, headers: (res.headers ?? {}) as Record<string, string>, body: parse(res) };
  }

  async stream(req: TransportRequest) {
    const signal = req.signal;
    if (signal?.aborted) return { status: 499, body: 'aborted' };
    // A watch is a long-poll invocation (up to KUMO_WATCH_POLL_SECONDS): a client that stops watching gives up on it at
    // once, as one that closes its connection to a Function URL does, and the invocation ends on its own in the background.
    const call = this.call(req);
    let onAbort: (() => void) | undefined;
    const aborted = signal
      ? new Promise<undefined>((resolve) => {
          onAbort = () => resolve(undefined);
          signal.addEventListener('abort', onAbort, { once: true });
        })
      : undefined;
    const res = aborted ? await Promise.race([call, aborted]) : await call;
    if (onAbort) signal!.removeEventListener('abort', onAbort);
    if (res === undefined) {
      call.catch(() => undefined);
      return { status: 499, body: 'aborted' };
    }
    const status = res.statusCode ?? 0;
    if (status !== 200) return { status, body: parse(res) };
    const lines = bodyText(res)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return {
      status,
      events: (async function* () {
        for (const line of lines) yield JSON.parse(line) as unknown;
      })(),
    };
  }

  async bytes(req: TransportRequest) {
    const res = await this.call(req);
    const status = res.statusCode ?? 0;
    if (status !== 200) return { status, body: parse(res) };
    const text = bodyText(res);
    return {
      status,
      chunks: (async function* () {
        yield Buffer.from(text);
      })(),
    };
  }
}
