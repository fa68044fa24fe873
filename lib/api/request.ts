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
  /** A unique id for the user when the credential carries one (a ServiceAccount's uid). */
  uid?: string;
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

/** A bearer token authenticated for audiences (kube's authenticator.Response, for TokenReview). */
export interface TokenAuthentication {
  /** Unset when the token authenticates nobody. */
  user?: UserInfo;
  /** The audiences, of those asked for, the token is good for. */
  audiences?: string[];
  /** Why the token was refused, when the authenticator tells (TokenReview's status.error). */
  error?: string;
}

export interface Authenticator {
  /** Returns the caller, or undefined if the request carries no valid credential. */
  authenticate(req: ApiRequest): Promise<UserInfo | undefined>;
  /**
   * An audience-aware authenticator (ServiceAccount JWTs) checks a token
   * against `audiences` itself. One without it is audience-agnostic (kube's
   * WrapAudienceAgnosticToken): its tokens are good for the API server's
   * own audiences only, and a TokenReview runs `authenticate` on a request
   * carrying nothing but the token.
   */
  authenticateToken?(token: string, audiences: readonly string[]): Promise<TokenAuthentication>;
}

/**
 * What a request asks to do to a resource, by name (kube's
 * authorizer.Attributes): a SubjectAccessReview or `kubectl auth can-i` may
 * name a group and resource this server does not serve, so the authorizer
 * decides on strings; `type` is the kind when the server serves it.
 */
export interface ResourceAttributes {
  verb: string;
  /** '' for the core group. */
  apiGroup: string;
  /** The plural, e.g. `pods`. */
  resource: string;
  subresource?: string;
  /** Unset for cluster-scoped resources and for requests across all namespaces. */
  namespace?: string;
  name?: string;
  /** The served kind, when there is one (the Node authorizer reads its scope). */
  type?: ResourceType;
  /** The request's object, for `create` (where the name is in the body, not the URL). */
  object?: KObject;
}

/** A request to a non-resource URL (`/metrics`, `/healthz`), with the verb as kube names it there (the method in lower case). */
export interface NonResourceAttributes {
  verb: string;
  path: string;
}

/** A rule as SelfSubjectRulesReview reports it (authorization.k8s.io/v1 ResourceRule and NonResourceRule). */
export interface SubjectRules {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  /** Some authorizer in the chain cannot list what it allows (the Node authorizer): the lists are a lower bound. */
  incomplete: boolean;
  evaluationError?: string;
}

export interface Authorizer {
  /** Returns undefined to allow, or a reason to refuse with 403. */
  authorize(user: UserInfo, attrs: ResourceAttributes): Promise<string | undefined>;
  /** For a non-resource URL. An authorizer without it refuses every such URL it guards. */
  authorizeNonResource?(user: UserInfo, attrs: NonResourceAttributes): Promise<string | undefined>;
  /** What `user` may do in `namespace` (SelfSubjectRulesReview); an authorizer without it reports nothing, incomplete. */
  rulesFor?(user: UserInfo, namespace: string): Promise<SubjectRules>;
}
