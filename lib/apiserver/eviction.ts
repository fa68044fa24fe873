/**
 * pods/{name}/eviction (policy/v1 Eviction), after kube's
 * pkg/registry/core/pod/storage/eviction.go: a delete that a
 * PodDisruptionBudget may refuse.
 *
 * - A pod that is Pending, terminal or already being deleted is deleted at
 *   once: it disrupts nothing (canIgnorePDB).
 * - More than one budget selecting the pod: 500, as kube (it cannot tell
 *   which to charge).
 * - Otherwise the one budget's status.disruptionsAllowed is checked and
 *   decremented, and the pod recorded in status.disruptedPods, in one
 *   compare-and-swap of the budget: two evictions racing for the last
 *   disruption cannot both pass, the loser re-reads 0 and gets 429
 *   TooManyRequests "Cannot evict pod as it would violate the pod's
 *   disruption budget." with a DisruptionBudget cause. A budget the
 *   controller has not caught up with (observedGeneration behind) also
 *   answers 429, with Retry-After 10 s.
 * - An unready pod is not charged while the budget is met (or at once with
 *   unhealthyPodEvictionPolicy AlwaysAllow); its delete then carries the
 *   resourceVersion it was judged at, so a pod that became Ready meanwhile
 *   is not deleted (429 again).
 */
import { isConflict, StatusError, type Status } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { DeleteOptions } from '../api/meta/v1/delete-options.js';
import type { KObject } from '../api/object.js';
import type { Pod } from '../api/core/v1/pod.js';
import { DISRUPTION_BUDGET_CAUSE, withDisruptionAllowedCondition } from '../api/policy/v1/disruption.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from '../api/policy/v1/poddisruptionbudget.js';
import type { ResourceType } from '../api/registry.js';
import { POD_DISRUPTION_BUDGETS } from '../kinds/resources.js';
import { rfc3339 } from '../util/clock.js';
import type { RestStorage } from './rest.js';

type PDB = PodDisruptionBudget & KObject;

/** MaxDisruptedPodSize: evictions approved but not yet seen by the disruption controller, beyond which a budget refuses more. */
const MAX_DISRUPTED_POD_SIZE = 2000;

const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";

/** 429 with the DisruptionBudget cause (kube's NewTooManyRequests: a Retry-After only when asked for). */
function budgetRefusal(cause: string, retryAfterSeconds: number): StatusError {
  return new StatusError(429, 'TooManyRequests', VIOLATES_BUDGET, {
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }],
  });
}

/** createTooManyRequestsError: the budget is behind its spec, or the pod changed under the eviction. */
function stillProcessing(pdbName: string): StatusError {
  return budgetRefusal(`The disruption budget ${pdbName} is still being processed by the server.`, 10);
}

function isReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** canIgnorePDB: a pod not running, or already going, disrupts nothing more. */
function canIgnoreBudget(pod: Pod & KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || Boolean(pod.metadata.deletionTimestamp);
}

function withResourceVersion(opts: DeleteOptions, resourceVersion: string | undefined): DeleteOptions {
  return { ...opts, preconditions: { ...(opts.preconditions ?? {}), ...(resourceVersion ? { resourceVersion } : {}) } };
}

const SUCCESS: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

/**
 * Evicts pod `name`: the Status to answer with (Success, or kube's 500 for
 * several budgets), or a StatusError. `now` stamps disruptedPods.
 */
export async function evictPod(
  rest: RestStorage,
  pods: ResourceType,
  namespace: string,
  name: string,
  evictionName: string | undefined,
  opts: DeleteOptions,
  now: number,
): Promise<Status> {
  if (evictionName !== name) throw StatusError.badRequest('name in URL does not match name in Eviction object');
  const rvUnset = opts.preconditions?.resourceVersion === undefined;

  const pod = (await rest.get(pods, namespace, name)) as Pod & KObject;
  if (canIgnoreBudget(pod)) {
    // A running pod's delete is pinned to the version judged, so it cannot become Ready unnoticed in between.
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || pod.metadata.deletionTimestamp;
    await rest.delete(pods, namespace, name, !terminal && rvUnset ? withResourceVersion(opts, pod.metadata.resourceVersion) : opts);
    return SUCCESS;
  }

  const budgets = ((await rest.list(POD_DISRUPTION_BUDGETS, namespace)).items as PDB[]).filter((b) => {
    const selector = b.spec?.selector;
    // A budget with a missing or empty selector matches nothing here, as kube's eviction reads it.
    if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) return false;
    try {
      return matches(fromLabelSelector(selector), pod.metadata.labels);
    } catch {
      return false;
    }
  });
  if (budgets.length > 1) {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    };
  }

  let pinned = false;
  const budget = budgets[0];
  if (budget) {
    const status = budget.status ?? {};
    const unhealthyAllowed =
      budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' ||
      ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0);
    if (!isReady(pod) && unhealthyAllowed) pinned = true;
    else await chargeBudget(rest, budget.metadata.name!, namespace, name, Boolean(opts.dryRun), now);
  }

  try {
    await rest.delete(pods, namespace, name, pinned && rvUnset ? withResourceVersion(opts, pod.metadata.resourceVersion) : opts);
  } catch (err) {
    if (isConflict(err) && pinned && rvUnset) throw stillProcessing(budget!.metadata.name!);
    throw err;
  }
  return SUCCESS;
}

/**
 * checkAndDecrement, as one compare-and-swap of the budget's status
 * (guaranteedUpdate re-reads and re-checks on a lost race). A dry run checks
 * without writing.
 */
async function chargeBudget(rest: RestStorage, pdbName: string, namespace: string, podName: string, dryRun: boolean, now: number): Promise<void> {
  const check = (current: KObject): PDB => {
    const pdb = current as PDB;
    const status = pdb.status ?? {};
    if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(pdbName);
    const allowed = status.disruptionsAllowed ?? 0;
    if (allowed < 0) throw StatusError.forbiddenObject({ group: 'policy', resource: 'poddisruptionbudget' }, pdbName, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw StatusError.forbiddenObject(
        { group: 'policy', resource: 'poddisruptionbudget' },
        pdbName,
        'DisruptedPods map too big - too many evictions not confirmed by PDB controller',
      );
    }
    if (allowed === 0) {
      throw budgetRefusal(
        `The disruption budget ${pdbName} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
        0,
      );
    }
    let next: PodDisruptionBudgetStatus = { ...status, disruptionsAllowed: allowed - 1 };
    if (allowed === 1) next = withDisruptionAllowedCondition(next, rfc3339(now));
    next.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: rfc3339(now) };
    return { ...pdb, status: next };
  };
  if (dryRun) {
    check(await rest.get(POD_DISRUPTION_BUDGETS, namespace, pdbName));
    return;
  }
  try {
    await rest.guaranteedUpdate(POD_DISRUPTION_BUDGETS, namespace, pdbName, check, { subresource: 'status' });
  } catch (err) {
    if (isConflict(err)) throw StatusError.timeout(`couldn't update PodDisruptionBudget "${pdbName}" due to conflicts`);
    throw err;
  }
}
