/**
 * The webhook dispatchers (kube's admission/plugin/webhook/mutating and
 * validating): which webhooks a request matches (rules, selectors,
 * matchConditions), the AdmissionReview v1 each is sent, and what its
 * answer does. Mutating webhooks run one after another, configurations in
 * name order and webhooks in their order, each seeing the object the last
 * one patched; one with reinvocationPolicy IfNeeded runs once more when a
 * later webhook changed the object. Validating webhooks run in parallel.
 *
 * A webhook that cannot be called, times out, or answers something that is
 * not a valid AdmissionReview follows its failurePolicy: Ignore skips it,
 * Fail refuses the request with 500 `failed calling webhook "NAME": …`.
 * A denial is the webhook's own Status (ToStatusErr). A dry run is refused
 * when a matching webhook declares side effects (kube's sideEffects rule).
 */
import { randomUUID } from 'node:crypto';
import fastJsonPatch, { type Operation as PatchOperation } from 'fast-json-patch';
import type { AdmissionRequest } from '../../api/admission/v1/admissionreview.js';
import type { MutatingWebhook, ValidatingWebhook } from '../../api/admissionregistration/v1/webhookconfiguration.js';
import type { KObject } from '../../api/object.js';
import { admissionExpression } from '../../apiextensions/cel-admission.js';
import { clone, deepEqual, isPlainObject } from '../../util/json.js';
import { admissionRequest, type AdmissionAttributes } from './attributes.js';
import { namespaceSelectorMatches, objectSelectorMatches, ruleMatches } from './matching.js';
import { callWebhook, WebhookCallError, type ServiceResolver } from './webhook-client.js';
import { callingError, denial, dryRunUnsupported, internalError } from './webhook-errors.js';

/** A webhook as configured, with the configuration it belongs to. */
export interface Hook {
  configuration: string;
  webhook: MutatingWebhook | ValidatingWebhook;
}

/** What dispatching reads besides the request. */
export interface DispatchContext {
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  resolve: ServiceResolver;
  /** The webhooks' warnings for the response are appended here. */
  warnings: string[];
}

/** Whether the rules and selectors match (kube's ShouldCallHook). */
async function matchesRequest(hook: Hook['webhook'], attrs: AdmissionAttributes, ctx: DispatchContext): Promise<boolean> {
  if (!(hook.rules ?? []).some((r) => ruleMatches(r, attrs, hook.matchPolicy))) return false;
  if (!objectSelectorMatches(hook.objectSelector, attrs)) return false;
  return namespaceSelectorMatches(hook.namespaceSelector, attrs, (n) => ctx.namespaceLabels(n));
}

/**
 * The matchConditions (all must be true): false when one is false, an
 * error text when none is false and one could not be evaluated (kube's
 * matchconditions.Matcher), true otherwise.
 */
function conditionsMatch(hook: Hook['webhook'], request: AdmissionRequest, attrs: AdmissionAttributes): boolean | string {
  const errors: string[] = [];
  for (const c of hook.matchConditions ?? []) {
    try {
      const v = admissionExpression(c.expression ?? '').evaluate({ object: attrs.object, oldObject: attrs.oldObject, request });
      if (v === false) return false;
      if (v !== true) errors.push(`matchCondition '${c.name ?? ''}' must evaluate to bool`);
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  return errors.length > 0 ? errors.join(', ') : true;
}

/** VerifyAdmissionResponse for admission.k8s.io/v1: why the answer is not a valid response to `uid`, or undefined. */
function invalidResponse(review: unknown, uid: string, mutating: boolean): string | undefined {
  if (!isPlainObject(review)) return 'webhook response was absent';
  const r = review.response;
  if (!isPlainObject(r)) return 'webhook response was absent';
  if (r.uid !== uid) return `expected response.uid="${uid}", got "${typeof r.uid === 'string' ? r.uid : ''}"`;
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') {
    return `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${String(review.apiVersion ?? '')}, Kind=${String(review.kind ?? '')}`;
  }
  const patch = typeof r.patch === 'string' && r.patch.length > 0;
  const patchType = r.patchType !== undefined && r.patchType !== null;
  if (mutating) {
    if (patch && !patchType) return 'webhook returned response.patch but not response.patchType';
    if (!patch && patchType) return 'webhook returned response.patchType but not response.patch';
    if (patchType && r.patchType !== 'JSONPatch') return `webhook returned invalid response.patchType of "${String(r.patchType)}"`;
  } else {
    if (patch) return 'validating webhook may not return response.patch';
    if (patchType) return 'validating webhook may not return response.patchType';
  }
  return undefined;
}

interface Answer {
  allowed: boolean;
  status?: { code?: number; reason?: string; message?: string; details?: unknown };
  patch?: string;
  warnings?: string[];
}

/**
 * Calls one webhook that matched: undefined when it was skipped (a
 * matchCondition false, or a failure under Ignore), else its answer.
 * Throws the Status that refuses the request.
 */
async function invoke(hook: Hook['webhook'], attrs: AdmissionAttributes, ctx: DispatchContext, mutating: boolean): Promise<Answer | undefined> {
  const name = hook.name ?? '';
  const ignore = hook.failurePolicy === 'Ignore';
  const uid = randomUUID();
  const request = admissionRequest(attrs, uid);
  const matched = conditionsMatch(hook, request, attrs);
  if (matched === false) return undefined;
  if (typeof matched === 'string') {
    if (ignore) return undefined;
    throw internalError(callingError(name, matched));
  }
  if (attrs.dryRun && hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') throw dryRunUnsupported(name);
  let review: unknown;
  try {
    review = await callWebhook(
      hook.clientConfig ?? {},
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request },
      hook.timeoutSeconds ?? 10,
      ctx.resolve,
    );
  } catch (err) {
    if (!(err instanceof WebhookCallError)) throw err;
    if (ignore) return undefined;
    throw internalError(callingError(name, `failed to call webhook: ${err.message}`));
  }
  const invalid = invalidResponse(review, uid, mutating);
  if (invalid) {
    if (ignore) return undefined;
    throw internalError(callingError(name, `received invalid webhook response: ${invalid}`));
  }
  const answer = (review as { response: Answer }).response;
  ctx.warnings.push(...(answer.warnings ?? []).filter((w) => typeof w === 'string' && w !== ''));
  if (answer.allowed !== true) throw denial(name, answer.status);
  return answer;
}

/** Configurations in name order, each one's webhooks in their order, with the ones the request matches. */
async function relevant(hooks: readonly Hook[], attrs: AdmissionAttributes, ctx: DispatchContext): Promise<Hook[]> {
  const sorted = [...hooks].sort((a, b) => (a.configuration < b.configuration ? -1 : a.configuration > b.configuration ? 1 : 0));
  const out: Hook[] = [];
  for (const h of sorted) if (await matchesRequest(h.webhook, attrs, ctx)) out.push(h);
  return out;
}

/** Applies a webhook's JSONPatch to the object; a patch that does not apply refuses the request (500), as kube's does. */
function patched(name: string, obj: KObject | undefined, patch: string): KObject {
  if (!obj) throw internalError(`admission webhook "${name}" attempted to modify the object, which is not supported for this operation`);
  let ops: PatchOperation[];
  try {
    ops = JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as PatchOperation[];
    if (!Array.isArray(ops)) throw new Error('a JSON patch is an array of operations');
    const result = fastJsonPatch.applyPatch(clone(obj), ops, true, false).newDocument as unknown;
    if (!isPlainObject(result) || !isPlainObject(result.metadata)) throw new Error('the patched object has no metadata');
    return result as unknown as KObject;
  } catch (err) {
    throw internalError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Runs the mutating webhooks the request matches and returns the object
 * they leave (`attrs.object` itself when none patched it; never mutated).
 */
export async function dispatchMutating(hooks: readonly Hook[], attrs: AdmissionAttributes, ctx: DispatchContext): Promise<KObject | undefined> {
  const matched = await relevant(hooks, attrs, ctx);
  let obj = attrs.object;
  // What the object was right after each IfNeeded webhook ran: a later change reinvokes it once.
  const after = new Map<Hook, KObject | undefined>();
  const run = async (h: Hook) => {
    const answer = await invoke(h.webhook, { ...attrs, object: obj }, ctx, true);
    if (answer?.patch) obj = patched(h.webhook.name ?? '', obj, answer.patch);
    if ((h.webhook as MutatingWebhook).reinvocationPolicy === 'IfNeeded') after.set(h, obj);
  };
  for (const h of matched) await run(h);
  const again = matched.filter((h) => after.has(h) && !deepEqual(after.get(h), obj));
  for (const h of again) await run(h);
  return obj;
}

/** Runs the validating webhooks the request matches, in parallel; the first refusal (in webhook order) is thrown. */
export async function dispatchValidating(hooks: readonly Hook[], attrs: AdmissionAttributes, ctx: DispatchContext): Promise<void> {
  const matched = await relevant(hooks, attrs, ctx);
  const results = await Promise.allSettled(matched.map((h) => invoke(h.webhook, attrs, ctx, false)));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
