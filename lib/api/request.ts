/**
 * The transport-agnostic request and response the API speaks. The Node HTTP
 * server (local mode), the Lambda handler (cloud) and the in-process client
 * all translate to and from these; the API server implements RequestHandler,
 * and the client's in-process transport takes any RequestHandler.
 */
import type { KObject } from './object.js';
import type { ResourceType } from './registry.js';

export interface UserInfo {
  name: string;
  groups: string[];
  /** Extra attributes, e.g. the node a node credential belongs to. */
  extra?: Record<string, string>;
}

export interface ApiRequest {
  method: string;
  /** Path without the query string, e.g. /api/v1/namespaces/default/pods. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The raw body, if any. */
  body?: Uint8Array;
  /** An already-parsed body (in-process callers); takes precedence over `body`. */
  object?: unknown;
  /** Aborts when the client goes away (ends watches and log follows). */
  signal?: AbortSignal;
  /** The authenticated caller; set by the front door or by authentication. */
  user?: UserInfo;
  /** Address of the remote peer, if known. */
  remoteAddress?: string;
}

export type ApiResponse =
  | { status: number; headers?: Record<string, string>; body: unknown }
  | { status: number; headers?: Record<string, string>; text: string }
  /** Newline-delimited JSON values (watch events). */
  | { status: number; headers?: Record<string, string>; events: AsyncIterable<unknown> }
  /** Raw bytes (logs). */
  | { status: number; headers?: Record<string, string>; bytes: AsyncIterable<Uint8Array> };

/** What answers requests: the API server, or anything that stands in for it. */
export interface RequestHandler {
  handle(req: ApiRequest): Promise<ApiResponse>;
}

export interface Authenticator {
  /** Returns the caller, or undefined if the request carries no valid credential. */
  authenticate(req: ApiRequest): Promise<UserInfo | undefined>;
}

export interface Authorizer {
  /** Returns undefined to allow, or a reason to refuse with 403. */
  authorize(
    user: UserInfo,
    attrs: { verb: string; resource: ResourceType; namespace?: string; name?: string; subresource?: string; object?: KObject },
  ): Promise<string | undefined>;
  /**
   * For a non-resource URL (`/metrics`), with the verb as kube-apiserver
   * names it there (the method in lower case). An authorizer without it
   * refuses every such URL it guards.
   */
  authorizeNonResource?(user: UserInfo, attrs: { verb: string; path: string }): Promise<string | undefined>;
}
