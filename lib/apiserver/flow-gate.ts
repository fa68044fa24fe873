/**
 * The front of the API server's handler chain in the cloud, in
 * kube-apiserver's order: authentication, then priority and fairness
 * (flow-control.ts), then everything else (authorization and the request
 * itself, in the ApiServer it wraps).
 *
 * - A request carrying credentials that do not authenticate is refused
 *   with 401 on every path, as kube-apiserver refuses an invalid bearer
 *   token, before anything else runs.
 * - An authenticated request over its flow's share is refused with 429, a
 *   Retry-After header and Kubernetes' "Too many requests, please try again
 *   later." Status; client-go (kubectl, helm, client-node's retrying
 *   callers) waits that long and retries.
 * - A request without credentials goes on unauthenticated: the server
 *   serves the public paths (discovery, /version, /healthz, none of which
 *   reads the store) and answers 401 to the rest.
 */
import { StatusError } from '../api/errors.js';
import { type FlowControl, TOO_MANY_REQUESTS_MESSAGE } from './flow-control.js';
import type { RequestHandler } from './lambda.js';
import type { ApiMetrics } from './metrics.js';
import type { ResourceRegistry } from '../api/registry.js';
import type { Authenticator } from '../api/request.js';
import type { ApiRequest, ApiResponse } from '../api/request.js';

function statusResponse(err: StatusError, headers: Record<string, string> = {}): ApiResponse {
  return { status: err.code, headers: { 'content-type': 'application/json', ...headers }, body: err.toStatus() };
}

export class FlowGate implements RequestHandler {
  constructor(
    private readonly inner: RequestHandler,
    private readonly authenticator: Authenticator,
    private readonly flows: FlowControl,
    /** Where the gate's own refusals are counted (apiserver_request_total), as kube-apiserver counts its filters'. */
    private readonly counted?: { metrics: ApiMetrics; kinds: ResourceRegistry },
  ) {}

  async handle(req: ApiRequest): Promise<ApiResponse> {
    if (req.user || req.headers.authorization === undefined) return this.inner.handle(req);
    let user;
    try {
      user = await this.authenticator.authenticate(req);
    } catch (err) {
      // The token store refusing for load (429) or failing: a Status either way, never an exception.
      return this.refuse(req, err instanceof StatusError ? err : StatusError.internal(err instanceof Error ? err.message : String(err)));
    }
    if (!user) return this.refuse(req, StatusError.unauthorized());
    const admission = this.flows.admit(user);
    if (!admission.admitted) {
      const seconds = admission.retryAfterSeconds;
      return this.refuse(req, StatusError.tooManyRequests(TOO_MANY_REQUESTS_MESSAGE, seconds), { 'retry-after': String(seconds) });
    }
    try {
      return await this.inner.handle({ ...req, user });
    } finally {
      admission.done();
    }
  }

  private async refuse(req: ApiRequest, err: StatusError, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const res = statusResponse(err, headers);
    return this.counted ? this.counted.metrics.observe(req, this.counted.kinds, async () => res) : res;
  }
}
