/**
 * Preemption, after kube-scheduler's DefaultPreemption plugin
 * (pkg/scheduler/framework/plugins/defaultpreemption and
 * framework/preemption): when a pod fits nowhere, find the nodes where
 * evicting pods of lower priority would make it fit, the fewest and least
 * important victims on each, and the best such node. Pure: decides from a
 * SchedulerCache snapshot; the scheduler carries the decision out (marks and
 * deletes the victims, nominates the node).
 *
 * Disruption budgets come in through a BudgetFilter (kube's
 * filterPodsWithPDBViolation): victims whose eviction would break one are
 * spared first and counted against their node. `budgetFilter(pdbs)` is that
 * function over PodDisruptionBudget objects; without budgets, NO_BUDGETS.
 */
import type { PodDisruptionBudget } from '../api/policy/v1/poddisruptionbudget.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import { filter, type Nominated, unschedulableMessage, withNominated } from './algorithm.js';
import { type NodeInfo, type PodEntry, podPriority } from './cache.js';
import { podRequests, type Resources } from './resources.js';

/** Candidate victims split by whether evicting each would break a disruption budget, each group in the order given. */
export interface BudgetSplit {
  violating: PodEntry[];
  nonViolating: PodEntry[];
}

/** Splits candidate victims (most important first) as kube's filterPodsWithPDBViolation does. */
export type BudgetFilter = (victims: readonly PodEntry[]) => BudgetSplit;

/** No budgets: every victim may go. */
export const NO_BUDGETS: BudgetFilter = (victims) => ({ violating: [], nonViolating: [...victims] });

/** What budgetFilter reads of a PodDisruptionBudget (policy/v1). */
export type DisruptionBudget = Pick<PodDisruptionBudget, 'metadata' | 'spec' | 'status'>;

/**
 * kube's filterPodsWithPDBViolation over these budgets: each victim spends
 * one allowed disruption of every budget of its namespace that selects it
 * (unless the budget already counts it as disrupted); a victim that takes a
 * budget below zero violates it. A budget without a selector, or with an
 * empty one, selects nothing.
 */
export function budgetFilter(pdbs: readonly DisruptionBudget[]): BudgetFilter {
  return (victims) => {
    const allowed = pdbs.map((b) => b.status?.disruptionsAllowed ?? 0);
    const selectors = pdbs.map((b) => {
      try {
        return b.spec?.selector ? fromLabelSelector(b.spec.selector) : [];
      } catch {
        return []; // an invalid selector matches nothing
      }
    });
    const out: BudgetSplit = { violating: [], nonViolating: [] };
    for (const v of victims) {
      let violated = false;
      const labels = v.pod.metadata.labels ?? {};
      if (Object.keys(labels).length > 0) {
        pdbs.forEach((b, i) => {
          const selector = selectors[i]!;
          if (b.metadata.namespace !== v.namespace || selector.length === 0 || !matches(selector, labels)) return;
          if (b.status?.disruptedPods?.[v.pod.metadata.name ?? ''] !== undefined) return;
          allowed[i]!--;
          if (allowed[i]! < 0) violated = true;
        });
      }
      (violated ? out.violating : out.nonViolating).push(v);
    }
    return out;
  };
}

/** A node where preemption makes the pod fit, and what it takes. */
export interface Candidate {
  node: string;
  /** Most important first. */
  victims: PodEntry[];
  /** How many victims break a disruption budget. */
  pdbViolations: number;
}

export type PreemptionResult =
  /** Evict these on that node; the pod is nominated to it. */
  | { candidate: Candidate }
  /**
   * Preemption cannot help: kube's PostFilter message (after `preemption: `).
   * `clearNomination`: the pod's nominatedNodeName no longer stands (no node
   * can be freed for it); otherwise it is left as it is.
   */
  | { message: string; clearNomination: boolean };

const NO_VICTIMS = 'No preemption victims found for incoming pod';
const NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/** kube's DisruptionTarget reason for a pod the scheduler preempts. */
export const PREEMPTION_BY_SCHEDULER = 'PreemptionByScheduler';

/** Marked by the scheduler for preemption (DisruptionTarget=True, PreemptionByScheduler). */
export function isPreemptionVictim(pod: Pod): boolean {
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'DisruptionTarget');
  return c?.status === 'True' && c.reason === PREEMPTION_BY_SCHEDULER;
}

/** Being deleted because the scheduler preempted it (kube's podTerminatingByPreemption). */
export function terminatingByPreemption(pod: Pod & KObject): boolean {
  return !!pod.metadata.deletionTimestamp && isPreemptionVictim(pod);
}

/** When the pod started, in ms; one that has not started counts as starting now, after every started one (kube's GetPodStartTime). */
function startTime(e: PodEntry): number {
  const t = e.pod.status?.startTime ? Date.parse(e.pod.status.startTime) : NaN;
  return Number.isNaN(t) ? Infinity : t;
}

/** Negative when `a` is more important: higher priority, then started earlier (kube's MoreImportantPod). */
function byImportance(a: PodEntry, b: PodEntry): number {
  return b.priority - a.priority || startTime(a) - startTime(b);
}

/**
 * Whether evicting pods can make room on a node that rejected the pod for
 * these reasons. Only resource and host port shortages can be freed (kube's
 * Unschedulable, as opposed to UnschedulableAndUnresolvable: taints,
 * affinity, readiness); and not a request larger than the whole node (a
 * hugepages request on a node without hugepages fits even an empty node
 * nowhere).
 */
function resolvable(reasons: string[], info: NodeInfo, requests: Resources): boolean {
  const freeable = reasons.every(
    (r) => r.startsWith('Insufficient ') || r === 'Too many pods' || r === "node(s) didn't have free ports for the requested pod ports",
  );
  if (!freeable) return false;
  const a = info.allocatable;
  if (requests.cpu > a.cpu || requests.memory > a.memory) return false;
  return Object.entries(requests.scalar).every(([name, want]) => want <= (a.scalar[name] ?? 0));
}

/**
 * kube's SelectVictimsOnNode: take away every pod of lower priority; if the
 * pod then fits, put back as many as still let it fit, most important
 * first (budget-breaking ones before the others). What could not be put back
 * are the victims. Returns the reasons the node stays unfit otherwise.
 */
function selectVictims(
  pod: Pod & KObject,
  info: NodeInfo,
  requests: Resources,
  nominated: Nominated,
  budgets: BudgetFilter,
): { victims: PodEntry[]; pdbViolations: number } | { reasons: string[] } {
  const priority = podPriority(pod);
  const potential = [...info.pods.values()].filter((e) => e.priority < priority);
  if (potential.length === 0) return { reasons: [NO_VICTIMS] };
  const trial = info.clone();
  for (const e of potential) trial.remove(e.uid);
  const unfit = () => filter(pod, withNominated(pod, trial, nominated), requests);
  const why = unfit();
  if (why.length > 0) return { reasons: why };
  potential.sort(byImportance);
  const { violating, nonViolating } = budgets(potential);
  const victims: PodEntry[] = [];
  const reprieve = (e: PodEntry): boolean => {
    trial.add(e);
    if (unfit().length === 0) return true;
    trial.remove(e.uid);
    victims.push(e);
    return false;
  };
  let pdbViolations = 0;
  for (const e of violating) if (!reprieve(e)) pdbViolations++;
  for (const e of nonViolating) reprieve(e);
  if (violating.length > 0 && nonViolating.length > 0) victims.sort(byImportance);
  if (victims.length === 0) return { reasons: [`expected at least one victim pod on node ${JSON.stringify(info.name)}`] };
  return { victims, pdbViolations };
}

/**
 * kube's pickOneNodeForPreemption: fewest budget violations, then the
 * lowest most-important victim, then the lowest sum of priorities, then the
 * fewest victims, then the latest start among the most important victims,
 * then the first.
 */
export function pickCandidate(candidates: readonly Candidate[]): Candidate | undefined {
  // Each priority is offset by 2^31 so that more victims never sum lower (kube adds MaxInt32+1).
  const sum = (c: Candidate) => c.victims.reduce((n, v) => n + v.priority + 2 ** 31, 0);
  const earliestTop = (c: Candidate) => Math.min(...c.victims.filter((v) => v.priority === c.victims[0]!.priority).map(startTime));
  const scores: ((c: Candidate) => number)[] = [(c) => -c.pdbViolations, (c) => -c.victims[0]!.priority, (c) => -sum(c), (c) => -c.victims.length, earliestTop];
  let left = [...candidates];
  for (const score of scores) {
    if (left.length <= 1) break;
    const best = Math.max(...left.map(score));
    left = left.filter((c) => score(c) === best);
  }
  return left[0];
}

/**
 * kube's PodEligibleToPreemptOthers: not with preemptionPolicy Never, nor
 * while pods it already preempted on its nominated node are still
 * terminating (it waits for them rather than preempting more). Returns why
 * not, or undefined.
 */
export function ineligibility(pod: Pod & KObject, nodes: ReadonlyMap<string, NodeInfo>): string | undefined {
  if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nominated = pod.status?.nominatedNodeName;
  const info = nominated ? nodes.get(nominated) : undefined;
  if (info) {
    const requests = podRequests(pod);
    const why = filter(pod, info, requests);
    // A nominated node that can no longer take the pod at all is given up: the pod may preempt elsewhere.
    if (why.length > 0 && !resolvable(why, info, requests)) return undefined;
    const priority = podPriority(pod);
    for (const e of info.pods.values()) {
      if (e.priority < priority && terminatingByPreemption(e.pod)) return 'not eligible due to a terminating pod on the nominated node.';
    }
  }
  return undefined;
}

/** Nodes to dry-run before choosing: 10% of the candidates, at least 100 (kube's minCandidateNodesPercentage and -Absolute). */
function candidatesWanted(potential: number): number {
  return Math.min(potential, Math.max(100, Math.floor(potential / 10)));
}

/**
 * Preemption for a pod that fit no node (kube's Evaluator.Preempt): checks
 * the pod may preempt, dry-runs victim selection on the nodes where
 * evicting could help, and picks one node. `nodes` is every node.
 */
export function preempt(pod: Pod & KObject, nodes: ReadonlyMap<string, NodeInfo>, nominated: Nominated, budgets: BudgetFilter = NO_BUDGETS): PreemptionResult {
  const notEligible = ineligibility(pod, nodes);
  if (notEligible) return { message: notEligible, clearNomination: false };
  const requests = podRequests(pod);
  const potential: NodeInfo[] = [];
  const reasons = new Map<string, number>();
  const count = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
  for (const info of nodes.values()) {
    const why = filter(pod, withNominated(pod, info, nominated), requests);
    if (why.length > 0 && resolvable(why, info, requests)) potential.push(info);
    else count(NOT_HELPFUL);
  }
  const wanted = candidatesWanted(potential.length);
  const candidates: Candidate[] = [];
  let clean = 0;
  for (const info of potential) {
    if (clean >= wanted) break;
    const r = selectVictims(pod, info, requests, nominated, budgets);
    if ('reasons' in r) {
      for (const why of r.reasons) count(why);
      continue;
    }
    candidates.push({ node: info.name, ...r });
    if (r.pdbViolations === 0) clean++;
  }
  const best = pickCandidate(candidates);
  if (!best) return { message: unschedulableMessage(nodes.size, reasons), clearNomination: true };
  return { candidate: best };
}
