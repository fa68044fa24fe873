import type { FieldError } from './field-errors.js';

export type { FieldError } from './field-errors.js';

/**
 * The one error type of the API, shaped exactly like Kubernetes' metav1.Status
 * (k8s.io/apimachinery/pkg/api/errors), since kubectl prints
 * `Error from server (<reason>): <message>` from it: the API server answers
 * with it and the client throws it, so every floor reads it through the
 * predicates at the end of this module rather than by comparing codes.
 */

/** The reasons kube-apiserver gives (metav1.StatusReason): a Status with another reason is classified by its code alone. */
const STATUS_REASONS = [
  'BadRequest',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Gone',
  'Invalid',
  'RequestEntityTooLarge',
  'UnsupportedMediaType',
  'MethodNotAllowed',
  'NotAcceptable',
  'TooManyRequests',
  'Timeout',
  'ServiceUnavailable',
  'InternalError',
  'Expired',
] as const;
export type StatusReason = (typeof STATUS_REASONS)[number];

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string; continue?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** Identifies the resource an error is about: `kind` holds the plural resource name, as Kubernetes' qualifiedResource does. */
export interface ResourceRef {
  group: string;
  resource: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

export class StatusError extends Error {
  override name = 'StatusError';
  /** The Status's list metadata: a 410 for an expired continue token offers a token to go on with. */
  listMeta?: { continue?: string };
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.listMeta ?? {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static notFound(ref: ResourceRef, name: string): StatusError {
    return new StatusError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, {
      name,
      ...(ref.group ? { group: ref.group } : {}),
      kind: ref.resource,
    });
  }

  static alreadyExists(ref: ResourceRef, name: string): StatusError {
    return new StatusError(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, {
      name,
      ...(ref.group ? { group: ref.group } : {}),
      kind: ref.resource,
    });
  }

  static conflict(ref: ResourceRef, name: string, why: string): StatusError {
    return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`, {
      name,
      ...(ref.group ? { group: ref.group } : {}),
      kind: ref.resource,
    });
  }

  /** The 409 of a write whose object changed since it was read (Kubernetes' OptimisticLockErrorMsg). */
  static modified(ref: ResourceRef, name: string): StatusError {
    return StatusError.conflict(ref, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }

  /** 422 with one cause per field error, message formatted as Kubernetes' NewInvalid. */
  static invalid(kind: string, group: string, name: string, causes: FieldError[]): StatusError {
    const gk = group ? `${kind}.${group}` : kind;
    const list = causes.map((c) => (c.message ? `${c.field}: ${c.message}` : c.field));
    const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return new StatusError(422, 'Invalid', `${gk} "${name}" is invalid: ${joined}`, {
      name,
      ...(group ? { group } : {}),
      kind,
      causes: causes.map((c) => ({ reason: c.type, message: c.message, field: c.field })),
    });
  }

  static badRequest(message: string, causes?: StatusCause[]): StatusError {
    return new StatusError(400, 'BadRequest', message, causes ? { causes } : undefined);
  }

  static gone(message: string): StatusError {
    return new StatusError(410, 'Expired', message);
  }

  static methodNotAllowed(message: string): StatusError {
    return new StatusError(405, 'MethodNotAllowed', message, {});
  }

  /**
   * The 404 for a path the server does not serve, as kube-apiserver's
   * go-restful service error handler shapes it (NewGenericServerResponse):
   * `details` present and empty, which clients such as `kubectl debug` read.
   */
  static pathNotFound(): StatusError {
    return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  /** 415 with the media types the endpoint takes, as kube's negotiation.NewUnsupportedMediaTypeError words it. */
  static unsupportedMediaType(accepted: readonly string[]): StatusError {
    return new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    );
  }

  /** 504 for a request that outlived its deadline, as kube's finisher words it (NewTimeoutError). */
  static timeout(message: string): StatusError {
    return new StatusError(504, 'Timeout', `Timeout: ${message}`, {});
  }

  static tooLarge(message: string): StatusError {
    return new StatusError(413, 'RequestEntityTooLarge', message);
  }

  static unauthorized(message = 'Unauthorized'): StatusError {
    return new StatusError(401, 'Unauthorized', message);
  }

  static forbidden(user: string, verb: string, ref: ResourceRef, name: string | undefined, namespace: string | undefined, why = ''): StatusError {
    const target = name ? ` "${name}"` : '';
    const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
    return new StatusError(
      403,
      'Forbidden',
      `${qualified(ref)}${target} is forbidden: User "${user}" cannot ${verb} resource "${ref.resource}" in API group "${ref.group}"${scope}${why ? `: ${why}` : ''}`,
      { ...(name ? { name } : {}), ...(ref.group ? { group: ref.group } : {}), kind: ref.resource },
    );
  }

  /** 403 for a non-resource URL, worded as kube-apiserver's (an empty group-resource: "forbidden: User ... cannot get path ..."). */
  static forbiddenPath(user: string, verb: string, path: string, why = ''): StatusError {
    return new StatusError(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"${why ? `: ${why}` : ''}`, {});
  }

  /** A request refused before it reaches any resource: kube-apiserver's NewForbidden with no resource (`forbidden: why`, empty details). */
  static forbiddenRequest(why: string): StatusError {
    return new StatusError(403, 'Forbidden', `forbidden: ${why}`, {});
  }

  /** 403 from admission (Kubernetes' NewForbidden): `<resource> "<name>" is forbidden: <why>`. */
  static forbiddenObject(ref: ResourceRef, name: string, why: string): StatusError {
    return new StatusError(403, 'Forbidden', `${qualified(ref)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, {
      name,
      ...(ref.group ? { group: ref.group } : {}),
      kind: ref.resource,
    });
  }

  static tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
    return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
  }

  static serviceUnavailable(message: string): StatusError {
    return new StatusError(503, 'ServiceUnavailable', message);
  }

  static internal(message: string, options?: ErrorOptions): StatusError {
    return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, undefined, options);
  }
}

const KNOWN_REASONS: ReadonlySet<string> = new Set(STATUS_REASONS);

/** The reason of a StatusError, undefined for any other error (apimachinery's ReasonForError). */
export function reasonOf(err: unknown): StatusReason | undefined {
  return err instanceof StatusError ? err.reason : undefined;
}

/**
 * Whether `err` is a StatusError with `reason`, or with `code` and a reason
 * kumo does not know (a Status from elsewhere): apimachinery's rule, so that
 * a 409 is a conflict only when it is not an AlreadyExists, a 410 gone only
 * when it is not Expired.
 */
function hasReason(err: unknown, reason: StatusReason, code: number): err is StatusError {
  if (!(err instanceof StatusError)) return false;
  return err.reason === reason || (!KNOWN_REASONS.has(err.reason) && err.code === code);
}

/** 404: the object (or the path) does not exist. */
export const isNotFound = (err: unknown): err is StatusError => hasReason(err, 'NotFound', 404);
/** 409 AlreadyExists: a create found the name taken. Not a conflict. */
export const isAlreadyExists = (err: unknown): err is StatusError => reasonOf(err) === 'AlreadyExists';
/** 409 Conflict: a write lost a compare-and-swap or failed a precondition; read again and retry. */
export const isConflict = (err: unknown): err is StatusError => hasReason(err, 'Conflict', 409);
/** 410 Gone. */
export const isGone = (err: unknown): err is StatusError => hasReason(err, 'Gone', 410);
/** 410 Expired: a resource version or continue token too old to serve (a list or watch must start again). */
export const isResourceExpired = (err: unknown): err is StatusError => reasonOf(err) === 'Expired';
export const isBadRequest = (err: unknown): err is StatusError => hasReason(err, 'BadRequest', 400);
export const isUnauthorized = (err: unknown): err is StatusError => hasReason(err, 'Unauthorized', 401);
export const isForbidden = (err: unknown): err is StatusError => hasReason(err, 'Forbidden', 403);
export const isMethodNotSupported = (err: unknown): err is StatusError => hasReason(err, 'MethodNotAllowed', 405);
/** 422: the object failed validation; `details.causes` name the fields. */
export const isInvalid = (err: unknown): err is StatusError => hasReason(err, 'Invalid', 422);
export const isTooManyRequests = (err: unknown): err is StatusError => hasReason(err, 'TooManyRequests', 429);
export const isTimeout = (err: unknown): err is StatusError => hasReason(err, 'Timeout', 504);
