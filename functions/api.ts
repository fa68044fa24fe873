/**
 * The Kubernetes API server in the cloud: one Lambda behind a Function URL
 * (or an API Gateway HTTP API). `handler` answers with one buffered response
 * (watches as long-polls); `streamingHandler` is for a Function URL with
 * InvokeMode RESPONSE_STREAM. Both run the same ApiServer core as `kumo up`.
 *
 * Environment: KUMO_TABLE (the DynamoDB table), KUMO_WATCH_POLL_SECONDS (how
 * long a buffered watch is held open, default 10), and the authentication,
 * flow control, admission and agent settings of lib/cloud/api-from-env.ts
 * (token auth is on whenever the store is DynamoDB); lib/config/settings.ts
 * declares them all. `GET /metrics` shows this container's figures since it
 * started (docs/cloud.md, "Metrics"). Log records are Powertools' JSON, with
 * the Lambda request id and, about a request, its auditID (docs/logging.md).
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { KUBERNETES_SERVICE_PORT, reconcileKubernetesService } from '#lib/apiserver/kubernetes-service';
import { lambdaFrontDoor, lambdaRuntime, type RequestHandler } from '#lib/apiserver/lambda';
import { ApiMetrics } from '#lib/apiserver/metrics';
import { ApiServer } from '#lib/apiserver/server';
import { ensureTokenNamespace } from '#lib/auth/bootstrap';
import { reconcileDefaultRbac } from '#lib/auth/rbac/reconcile';
import { apiOptionsFromEnv } from '#lib/cloud/api-from-env';
import { storeFromEnv } from '#lib/cloud/store-from-env';
import { readSetting } from '#lib/config/read';
import { SETTINGS } from '#lib/config/settings';
import { functionLogger } from '#lib/log/logger';
import { InstrumentedStore } from '#lib/store/instrumented';
import { newKindRegistry } from '#lib/kinds/index';

/**
 * A buffered watch ends with a bookmark at its last position; progress
 * bookmarks this often tell it that position when no event matched.
 */
const LONG_POLL_BOOKMARK_INTERVAL_MS = 1_000;

interface Servers {
  buffered: RequestHandler;
  streaming: RequestHandler;
}

// Module scope: read once per container. A bad setting fails the container's start, naming the variable.
const logger = functionLogger('api');
const watchPollMs = readSetting(process.env, SETTINGS.watchPoll);
// The kinds both servers serve: one registry, which kinds added at run time join.
const kinds = newKindRegistry();

// Built on the first invocation, reused by warm ones. A failed start is retried by the next invocation.
let servers: Promise<Servers> | undefined;

function start(): Promise<Servers> {
  servers ??= (async () => {
    // Both servers count into one registry: the container's.
    const metrics = new ApiMetrics();
    const store = new InstrumentedStore(await storeFromEnv(), metrics.registry, kinds);
    const { auth, front, ...opts } = await apiOptionsFromEnv(store, process.env, logger, metrics.registry);
    const streaming = new ApiServer({ ...opts, metrics, kinds });
    await bootstrap(streaming.rest);
    // A Function URL has no address for Endpoints: each node's proxy sends the Service to the URL itself (docs/services.md).
    const range = opts.admission?.serviceClusterIPRange;
    await reconcileKubernetesService(streaming.rest, { port: KUBERNETES_SERVICE_PORT, ...(range ? { serviceClusterIPRange: range } : {}) });
    await reconcileDefaultRbac(streaming.rest);
    if (auth === 'tokens') await ensureTokenNamespace(streaming.rest);
    return { streaming: front(streaming), buffered: front(new ApiServer({ ...opts, metrics, kinds, bookmarkIntervalMs: LONG_POLL_BOOKMARK_INTERVAL_MS })) };
  })().catch((err: unknown) => {
    servers = undefined;
    throw err;
  });
  return servers;
}

const frontDoor = lambdaFrontDoor(async (mode) => (await start())[mode], { watchPollMs, logger, kinds });

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  return frontDoor.buffered(event, context);
}

async function streaming(event: APIGatewayProxyEventV2, stream: Writable, context?: Context): Promise<void> {
  if (context) logger.addContext(context);
  return frontDoor.streaming(event, stream, context);
}

const runtime = lambdaRuntime();

/** For RESPONSE_STREAM Function URLs; outside Lambda (tests) it is the unwrapped function taking any Writable. */
export const streamingHandler = runtime ? runtime.streamifyResponse(streaming) : streaming;
