/**
 * Impersonation, after kube-apiserver's WithImpersonation filter: a caller
 * may act as another user with the `Impersonate-User`, `Impersonate-Group`,
 * `Impersonate-Uid` and `Impersonate-Extra-<key>` headers (`kubectl --as`,
 * `--as-group`, `--as-uid`, `--as-user-extra`), each of them authorized
 * first as the `impersonate` verb on what it names:
 *
 * - a user: `users` (core group), named by the user; a user named
 *   `system:serviceaccount:NS:NAME` is the ServiceAccount NAME, checked as
 *   `serviceaccounts` in NS, with its groups unless groups are given;
 * - each group: `groups`; each extra value: `userextras/<key>` and the uid:
 *   `uids`, both in authentication.k8s.io.
 *
 * Groups, an extra or a uid without a user are a 400; the first thing the
 * caller may not impersonate is a 403 naming it (kube's Forbidden message),
 * and nothing else of the request runs. The impersonated user is in
 * `system:authenticated` unless it is `system:anonymous` or names
 * `system:unauthenticated` itself. A server without an authorizer lets
 * everyone impersonate (kube's AlwaysAllow).
 *
 * Header values arrive joined by commas when a header is repeated (Node and
 * Lambda Function URLs both join them), so a group or extra value that
 * itself holds a comma cannot be impersonated; extra keys are lower-cased
 * and percent-decoded, as kube reads them.
 */
import { StatusError } from '../api/errors.js';
import type { ApiRequest, Authorizer, ResourceAttributes, UserInfo } from '../api/request.js';

const AUTHENTICATION_GROUP = 'authentication.k8s.io';
const EXTRA_PREFIX = 'impersonate-extra-';
const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
const ANONYMOUS = 'system:anonymous';
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';

/** One thing to impersonate, as kube's filter lists them (a v1.ObjectReference). */
interface Impersonated {
  kind: 'ServiceAccount' | 'User' | 'Group' | 'UserExtra' | 'UID';
  namespace?: string;
  name: string;
  /** The extra's key (kube puts it in FieldPath). */
  fieldPath?: string;
}

/** serviceaccount.SplitUsername: `system:serviceaccount:NS:NAME` with both parts non-empty and no further colon. */
function serviceAccountOf(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

function values(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    // kube records a malformed escape as it came.
    return key;
  }
}

/** Go's %v of the []v1.ObjectReference kube prints in its 400. */
function goReferences(list: readonly Impersonated[]): string {
  const apiVersion = (i: Impersonated) => (i.kind === 'UserExtra' || i.kind === 'UID' ? `${AUTHENTICATION_GROUP}/v1` : '');
  return `[${list.map((i) => `{${[i.kind, i.namespace ?? '', i.name, '', apiVersion(i), '', i.fieldPath ?? ''].join(' ')}}`).join(' ')}]`;
}

/** What the request's headers ask to impersonate, in kube's order (user, groups, extras, uid); [] when none. */
export function impersonationRequests(headers: ApiRequest['headers']): Impersonated[] {
  const out: Impersonated[] = [];
  const user = headers['impersonate-user'] ?? '';
  if (user) {
    const sa = serviceAccountOf(user);
    out.push(sa ? { kind: 'ServiceAccount', ...sa } : { kind: 'User', name: user });
  }
  const groups = values(headers['impersonate-group']).map((name): Impersonated => ({ kind: 'Group', name }));
  out.push(...groups);
  const extras = Object.entries(headers)
    .filter(([h]) => h.startsWith(EXTRA_PREFIX))
    .flatMap(([h, v]) =>
      values(v).map((name): Impersonated => ({ kind: 'UserExtra', name, fieldPath: decodeKey(h.slice(EXTRA_PREFIX.length).toLowerCase()) })),
    );
  out.push(...extras);
  const uid = headers['impersonate-uid'] ?? '';
  if (uid) out.push({ kind: 'UID', name: uid });
  if ((groups.length > 0 || extras.length > 0 || uid) && !user) throw StatusError.badRequest(`requested ${goReferences(out)} without impersonating a user`);
  return out;
}

/** The authorization attributes of impersonating `i` (verb `impersonate`). */
function attributesOf(i: Impersonated): ResourceAttributes {
  switch (i.kind) {
    case 'ServiceAccount':
      return { verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: i.namespace!, name: i.name };
    case 'User':
      return { verb: 'impersonate', apiGroup: '', resource: 'users', name: i.name };
    case 'Group':
      return { verb: 'impersonate', apiGroup: '', resource: 'groups', name: i.name };
    case 'UserExtra':
      return { verb: 'impersonate', apiGroup: AUTHENTICATION_GROUP, resource: 'userextras', subresource: i.fieldPath!, name: i.name };
    case 'UID':
      return { verb: 'impersonate', apiGroup: AUTHENTICATION_GROUP, resource: 'uids', name: i.name };
  }
}

/** kube's responsewriters.Forbidden for a resource request: the group-resource and name, then who cannot do what, where, and why. */
function forbidden(requestor: UserInfo, a: ResourceAttributes, reason: string): StatusError {
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  const message = `${qualified} "${a.name ?? ''}" is forbidden: User "${requestor.name}" cannot impersonate resource "${resource}" in API group "${a.apiGroup}"${scope}${reason ? `: ${reason}` : ''}`;
  return new StatusError(403, 'Forbidden', message, { ...(a.name ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource });
}

/**
 * The user a request acts as: `requestor` itself when it asks to
 * impersonate no one, else the impersonated user once `authorizer` allows
 * every part of it. Throws the 400 or 403 kube answers.
 */
export async function impersonate(req: ApiRequest, requestor: UserInfo, authorizer: Authorizer | undefined): Promise<UserInfo> {
  const requests = impersonationRequests(req.headers);
  if (requests.length === 0) return requestor;
  let name = '';
  let uid: string | undefined;
  let groups: string[] = [];
  const extra = new Map<string, string[]>();
  const groupsGiven = requests.some((i) => i.kind === 'Group');
  for (const i of requests) {
    const attrs = attributesOf(i);
    const reason = authorizer ? await authorizer.authorize(requestor, attrs) : undefined;
    if (reason !== undefined) throw forbidden(requestor, attrs, reason);
    switch (i.kind) {
      case 'ServiceAccount':
        name = `${SERVICE_ACCOUNT_PREFIX}${i.namespace}:${i.name}`;
        // serviceaccount.MakeGroupNames: a ServiceAccount's groups are fixed, unless the caller names groups.
        if (!groupsGiven) groups = ['system:serviceaccounts', `system:serviceaccounts:${i.namespace}`];
        break;
      case 'User':
        name = i.name;
        break;
      case 'Group':
        groups.push(i.name);
        break;
      case 'UserExtra':
        extra.set(i.fieldPath!, [...(extra.get(i.fieldPath!) ?? []), i.name]);
        break;
      case 'UID':
        uid = i.name;
        break;
    }
  }
  if (name !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) groups.push(UNAUTHENTICATED);
  return {
    name,
    groups,
    ...(uid ? { uid } : {}),
    ...(extra.size > 0 ? { extra: Object.fromEntries([...extra].map(([k, v]) => [k, v.join(',')])) } : {}),
  };
}
