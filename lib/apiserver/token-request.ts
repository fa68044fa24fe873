/**
 * serviceaccounts/{name}/token (authentication.k8s.io/v1 TokenRequest),
 * after kube's TokenREST (pkg/registry/core/serviceaccount/storage/token.go):
 * a create that stores nothing and answers with a signed token for the
 * ServiceAccount.
 *
 * - audiences default to the API server's; expirationSeconds to 3600, at
 *   least 600 ("may not specify a duration less than 10 minutes"), at most
 *   2^32; above the server's maximum it is shortened, with a warning.
 * - boundObjectRef: a Pod (running as this ServiceAccount; its node named
 *   in the token too) or a Secret of the namespace, which must exist, and
 *   whose uid, when given, must match (409, kube's message); other kinds 400.
 */
import type { Pod } from '../api/core/v1/pod.js';
import { StatusError } from '../api/errors.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import type { BoundRef, ServiceAccountTokenIssuer } from '../api/serviceaccount-tokens.js';
import type { TokenRequest } from '../api/authentication/v1/tokenrequest.js';
import { NODES, PODS, SECRETS } from '../kinds/resources.js';
import { isNotFound } from '../api/errors.js';
import { rfc3339 } from '../util/clock.js';
import { isPlainObject } from '../util/json.js';
import type { RestStorage } from './rest.js';

/** SetDefaults_TokenRequestSpec. */
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

export interface TokenRequestContext {
  rest: RestStorage;
  issuer: ServiceAccountTokenIssuer;
  /** kube-apiserver's --service-account-max-token-expiration; undefined: no maximum. */
  maxExpirationSeconds?: number;
  now: number;
}

function invalid(name: string, errors: FieldError[]): StatusError {
  return StatusError.invalid('TokenRequest', 'authentication.k8s.io', name, errors);
}

/** apiVersion "v1" or "" is the core group; anything else names another. */
function coreGroup(apiVersion: string | null | undefined): boolean {
  return !apiVersion || !apiVersion.includes('/');
}

/** The TokenRequest answered, and the warnings to send with it. */
export async function requestToken(
  ctx: TokenRequestContext,
  serviceAccounts: ResourceType,
  namespace: string,
  name: string,
  body: unknown,
): Promise<{ object: TokenRequest; warnings: string[] }> {
  if (!isPlainObject(body)) throw StatusError.badRequest('the request body must be a TokenRequest object');
  const req = structuredClone(body) as unknown as TokenRequest;
  req.metadata ??= {};
  req.spec ??= {};
  req.apiVersion = 'authentication.k8s.io/v1';
  req.kind = 'TokenRequest';
  if (req.metadata.name && req.metadata.name !== name) {
    throw invalid(name, [fieldErrors.invalid('metadata.name', req.metadata.name, 'must match the service account name if specified')]);
  }
  if (req.metadata.namespace && req.metadata.namespace !== namespace) {
    throw invalid(name, [fieldErrors.invalid('metadata.namespace', req.metadata.namespace, 'must match the service account namespace if specified')]);
  }
  const sa = await ctx.rest.get(serviceAccounts, namespace, name);
  const spec = req.spec;
  if (!spec.audiences || spec.audiences.length === 0) spec.audiences = [...ctx.issuer.apiAudiences];
  spec.expirationSeconds ??= DEFAULT_EXPIRATION_SECONDS;
  req.metadata.name = name;
  req.metadata.namespace = namespace;
  req.metadata.creationTimestamp = rfc3339(ctx.now);
  delete req.status;
  const errors: FieldError[] = [];
  if (spec.expirationSeconds < MIN_EXPIRATION_SECONDS) {
    errors.push(fieldErrors.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 10 minutes'));
  }
  if (spec.expirationSeconds > MAX_EXPIRATION_SECONDS) {
    errors.push(fieldErrors.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  }
  if (errors.length > 0) throw invalid('', errors);

  let pod: BoundRef | undefined;
  let secret: BoundRef | undefined;
  let node: BoundRef | undefined;
  const bound = spec.boundObjectRef;
  if (bound) {
    const refName = bound.name ?? '';
    let uid: string;
    if (coreGroup(bound.apiVersion) && bound.kind === 'Pod') {
      const p = (await ctx.rest.get(PODS, namespace, refName)) as Pod & KObject;
      if (p.spec?.serviceAccountName !== name) {
        throw StatusError.badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`);
      }
      uid = p.metadata.uid ?? '';
      pod = { name: refName, uid };
      const nodeName = p.spec?.nodeName;
      if (nodeName) node = { name: nodeName, uid: await nodeUid(ctx.rest, nodeName) };
    } else if (coreGroup(bound.apiVersion) && bound.kind === 'Secret') {
      uid = (await ctx.rest.get(SECRETS, namespace, refName)).metadata.uid ?? '';
      secret = { name: refName, uid };
    } else {
      throw StatusError.badRequest(`cannot bind token to object of type ${groupVersionKind(bound.apiVersion, bound.kind)}`);
    }
    if (bound.uid && bound.uid !== uid) {
      throw StatusError.conflict(
        { group: '', resource: bound.kind ?? '' },
        refName,
        `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
  }
  const warnings: string[] = [];
  const max = ctx.maxExpirationSeconds;
  if (max !== undefined && max > 0 && spec.expirationSeconds > max) {
    warnings.push(`requested expiration of ${spec.expirationSeconds} seconds shortened to ${max} seconds`);
    spec.expirationSeconds = max;
  }
  const token = await ctx.issuer.issue(
    {
      namespace,
      serviceAccount: { name, uid: sa.metadata.uid ?? '' },
      ...(pod ? { pod } : {}),
      ...(secret ? { secret } : {}),
      ...(node ? { node } : {}),
      audiences: spec.audiences,
      expirationSeconds: spec.expirationSeconds,
    },
    ctx.now,
  );
  req.status = { token, expirationTimestamp: rfc3339(ctx.now + spec.expirationSeconds * 1000) };
  return { object: req, warnings };
}

/** The bound pod's node's uid, empty when the Node is gone (kube still names the node). */
async function nodeUid(rest: RestStorage, nodeName: string): Promise<string> {
  try {
    return (await rest.get(NODES, undefined, nodeName)).metadata.uid ?? '';
  } catch (err) {
    if (isNotFound(err)) return '';
    throw err;
  }
}

/** Go's schema.GroupVersionKind.String(): `group/version, Kind=kind`. */
function groupVersionKind(apiVersion: string | null | undefined, kind: string | null | undefined): string {
  const av = apiVersion ?? '';
  const [group, version] = av.includes('/') ? av.split('/', 2) : ['', av];
  return `${group}/${version}, Kind=${kind ?? ''}`;
}
