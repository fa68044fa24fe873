/**
 * A custom resource's objects between the version a request names and the
 * version they are stored in (apiextensions-apiserver's converters). Every
 * served version of a CRD shares one store key; objects are written in the
 * storage version and read back in the version asked for, watches included.
 *
 * Strategy `None` (kube's nopConverter): only `apiVersion` changes; the
 * fields are the same in every version. Strategy `Webhook` (kube's
 * webhookConverter): the CRD's conversion webhook is sent a ConversionReview
 * (apiextensions.k8s.io/v1) for the object, through the admission webhooks'
 * HTTPS client; the answer must echo the uid, succeed and return one object
 * of the desired version and the same kind, whose metadata may change only
 * in labels and annotations (the rest is kept, as restoreObjectMeta keeps
 * it). Any failure refuses the request with kube's 500 `conversion webhook
 * for GVK failed: …`. One call per object (kube sends a list in one review).
 * Kinds without `conversion` pass unchanged; `Builtin` uses the kind's own.
 */
import { randomUUID } from 'node:crypto';
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { isPlainObject } from '../util/json.js';
import { callWebhook, WebhookCallError, type ServiceResolver } from './admission/webhook-client.js';

/** kube's default timeout of a conversion webhook call. */
const CONVERSION_TIMEOUT_SECONDS = 30;

export class Conversion {
  constructor(private readonly resolve: ServiceResolver) {}

  /** `obj` in the version `rt` names, from the form it was stored in. Resolves to `obj` itself when nothing changes. */
  fromStorage<T extends KObject>(rt: ResourceType, obj: T): Promise<T> {
    return this.convert(rt, obj, apiVersionOf(rt));
  }

  /** `obj`, given in `rt`'s version, as it is stored (the storage version). Resolves to `obj` itself when nothing changes. */
  toStorage<T extends KObject>(rt: ResourceType, obj: T): Promise<T> {
    const c = rt.conversion;
    return c ? this.convert(rt, obj, apiVersionOf({ group: rt.group, version: c.storageVersion })) : Promise.resolve(obj);
  }

  private async convert<T extends KObject>(rt: ResourceType, obj: T, to: string): Promise<T> {
    const c = rt.conversion;
    if (!c || obj.apiVersion === to) return obj;
    if (c.strategy === 'Webhook') {
      // As kube's webhookConverter wraps a failure: the object's GVK as Go prints a schema.GroupVersionKind.
      const failed = (why: string) => StatusError.internal(`conversion webhook for ${obj.apiVersion}, Kind=${rt.kind} failed: ${why}`);
      return (await this.callWebhook(c.clientConfig, obj, to, failed)) as T;
    }
    if (c.strategy === 'Builtin') return c.convert(obj, to) as T;
    return { ...obj, apiVersion: to };
  }

  private async callWebhook(clientConfig: Parameters<typeof callWebhook>[0], obj: KObject, to: string, failed: (why: string) => StatusError): Promise<KObject> {
    const uid = randomUUID();
    let review: unknown;
    try {
      review = await callWebhook(
        clientConfig,
        { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid, desiredAPIVersion: to, objects: [obj] } },
        CONVERSION_TIMEOUT_SECONDS,
        this.resolve,
      );
    } catch (err) {
      if (err instanceof WebhookCallError) throw failed(err.message);
      throw err;
    }
    const response = isPlainObject(review) ? review.response : undefined;
    if (!isPlainObject(response)) throw failed('no response provided');
    if (response.uid !== uid) throw failed(`expected response.uid="${uid}", got "${String(response.uid ?? '')}"`);
    const result = isPlainObject(response.result) ? response.result : {};
    if (result.status !== 'Success') throw failed(typeof result.message === 'string' ? result.message : 'conversion failed');
    const converted = Array.isArray(response.convertedObjects) ? response.convertedObjects : [];
    if (converted.length !== 1) throw failed(`returned ${converted.length} objects, expected 1`);
    const out = converted[0] as unknown;
    if (!isPlainObject(out) || !isPlainObject(out.metadata)) throw failed('invalid converted object: no metadata');
    if (out.apiVersion !== to) throw failed(`invalid converted object at index 0: wrong apiVersion "${String(out.apiVersion)}", expected "${to}"`);
    if (out.kind !== obj.kind) throw failed(`invalid converted object at index 0: wrong kind "${String(out.kind)}", expected "${obj.kind}"`);
    // restoreObjectMeta: a conversion may change labels and annotations only.
    const { labels, annotations } = out.metadata as KObject['metadata'];
    const metadata = { ...obj.metadata, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
    if (!labels) delete metadata.labels;
    if (!annotations) delete metadata.annotations;
    return { ...(out as unknown as KObject), metadata };
  }
}
