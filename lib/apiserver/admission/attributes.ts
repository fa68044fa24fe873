/**
 * What admission knows of one request (kube's admission.Attributes), and the
 * AdmissionRequest a webhook or a CEL expression is shown of it
 * (admission.k8s.io/v1, as kube's webhook/request.CreateAdmissionObjects
 * builds it).
 */
import type { AdmissionRequest } from '../../api/admission/v1/admissionreview.js';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import type { UserInfo } from '../../api/request.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  rt: ResourceType;
  subresource?: string | undefined;
  /** The object's name ('' for a create with generateName). */
  name: string;
  /** '' for a cluster-scoped object. */
  namespace: string;
  /** The object as it will be written; absent on DELETE. */
  object?: KObject | undefined;
  /** The stored object on UPDATE and DELETE. */
  oldObject?: KObject | undefined;
  /** Who writes (server-internal writes, which carry no user, are not sent to dynamic admission). */
  user: UserInfo;
  dryRun: boolean;
  /** CreateOptions, UpdateOptions or DeleteOptions, as the request carried them. */
  options?: Record<string, unknown> | undefined;
}

/** The kind a subresource's body has (kube's admission request `kind` for pods/binding, pods/eviction, scale). */
function kindOf(attrs: AdmissionAttributes): { group: string; version: string; kind: string } {
  const { rt, subresource } = attrs;
  if (subresource === 'binding') return { group: '', version: 'v1', kind: 'Binding' };
  if (subresource === 'eviction') return { group: 'policy', version: 'v1', kind: 'Eviction' };
  if (subresource === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  return { group: rt.group, version: rt.version, kind: rt.kind };
}

/** The options object kube sends beside the request: meta.k8s.io/v1 CreateOptions, UpdateOptions or DeleteOptions. */
function optionsOf(attrs: AdmissionAttributes): Record<string, unknown> | undefined {
  const kind = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: undefined }[attrs.operation];
  if (!kind) return undefined;
  return { kind, apiVersion: 'meta.k8s.io/v1', ...(attrs.dryRun ? { dryRun: ['All'] } : {}), ...attrs.options };
}

/** The AdmissionRequest of `attrs` with a fresh `uid`; the user's extra values become lists, as authentication/v1 has them. */
export function admissionRequest(attrs: AdmissionAttributes, uid: string): AdmissionRequest {
  const user = attrs.user;
  const kind = kindOf(attrs);
  const resource = { group: attrs.rt.group, version: attrs.rt.version, resource: attrs.rt.resource };
  const options = optionsOf(attrs);
  return {
    uid,
    kind,
    resource,
    ...(attrs.subresource ? { subResource: attrs.subresource } : {}),
    requestKind: kind,
    requestResource: resource,
    ...(attrs.subresource ? { requestSubResource: attrs.subresource } : {}),
    name: attrs.name,
    ...(attrs.namespace ? { namespace: attrs.namespace } : {}),
    operation: attrs.operation,
    userInfo: {
      username: user.name,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups,
      ...(user.extra ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [v]])) } : {}),
    },
    object: attrs.object ?? null,
    oldObject: attrs.oldObject ?? null,
    dryRun: attrs.dryRun,
    ...(options ? { options } : {}),
  };
}
