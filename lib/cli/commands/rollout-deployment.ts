/**
 * What `kumo rollout` knows about Deployments, as kubectl's polymorphic
 * helpers do it (DeploymentStatusViewer, DeploymentHistoryViewer,
 * DeploymentRollbacker, the pauser, resumer and restarter): pure functions
 * of the Deployment and its ReplicaSets, so the command module only reads,
 * writes and prints.
 */
import type { Deployment } from '../../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../../api/apps/v1/replicaset.js';
import { POD_TEMPLATE_HASH } from '../../api/apps/v1/template-hash.js';
import type { PodTemplateSpec } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import { formatSelector, fromLabelSelector } from '../../api/labels.js';
import { REPLICASETS } from '../../kinds/resources.js';
import type { KubeClient } from '../../client/client.js';
import { describePodTemplate } from '../../printers/describe/pod.js';
import { splitReplicaSets } from '../../printers/describe/workloads.js';
import { PrefixWriter } from '../../printers/describe/writer.js';
import { DESCRIBE_TABWRITER, TabWriter } from '../../printers/tabwriter.js';
import { CliError } from '../errors.js';

export type D = Deployment & KObject;
export type RS = ReplicaSet & KObject;

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';

/**
 * Annotations a rollback keeps from the Deployment instead of copying them
 * from the ReplicaSet (kubectl's annotationsToSkip).
 */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** One line of `rollout status` and whether the rollout is complete. */
export interface RolloutStatus {
  message: string;
  done: boolean;
}

/**
 * deploymentutil.Revision: the revision annotation, 0 when absent; a value
 * that is not an integer is an error (callers skip such ReplicaSets).
 */
export function revisionOf(obj: KObject): number | undefined {
  const v = obj.metadata.annotations?.[REVISION];
  if (v === undefined) return 0;
  return /^[+-]?\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * DeploymentStatusViewer.Status: the line kubectl prints for one observed
 * state. Throws (as kubectl returns an error) when the pinned revision was
 * rolled over or the progress deadline passed.
 */
export function deploymentStatus(d: D, revision: number): RolloutStatus {
  const name = d.metadata.name ?? '';
  if (revision > 0) {
    const current = revisionOf(d);
    if (current === undefined) {
      throw new CliError(`cannot get the revision of deployment "${name}": strconv.ParseInt: parsing "${d.metadata.annotations?.[REVISION]}": invalid syntax`);
    }
    if (current !== revision) throw new CliError(`desired revision (${revision}) is different from the running revision (${current})`);
  }
  const st = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) {
    return { message: 'Waiting for deployment spec update to be observed...\n', done: false };
  }
  const progressing = (st.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === TIMED_OUT_REASON) throw new CliError(`deployment "${name}" exceeded its progress deadline`);
  const replicas = d.spec?.replicas;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const waiting = (what: string) => ({ message: `Waiting for deployment "${name}" rollout to finish: ${what}...\n`, done: false });
  if (replicas !== undefined && replicas !== null && updated < replicas) return waiting(`${updated} out of ${replicas} new replicas have been updated`);
  if (total > updated) return waiting(`${total - updated} old replicas are pending termination`);
  if (available < updated) return waiting(`${available} of ${updated} updated replicas are available`);
  return { message: `deployment "${name}" successfully rolled out\n`, done: true };
}

/**
 * deploymentutil.GetAllReplicaSets as kubectl calls it: the ReplicaSets the
 * Deployment's selector matches and whose controller reference is the
 * Deployment, old ones (by creation) first, the new one last.
 */
export async function deploymentReplicaSets(client: KubeClient, d: D): Promise<RS[]> {
  const selector = formatSelector(fromLabelSelector(d.spec?.selector));
  const list = await client.listAll<RS>(REPLICASETS, d.metadata.namespace, selector ? { labelSelector: selector } : {});
  const { oldRSs, newRS } = splitReplicaSets(d, list.items);
  return [...(oldRSs as RS[]), ...(newRS ? [newRS as RS] : [])];
}

/** The ReplicaSets by revision; a later one with the same revision wins, as in kubectl's map. */
export function byRevision(sets: readonly RS[]): Map<number, RS> {
  const out = new Map<number, RS>();
  for (const rs of sets) {
    const v = revisionOf(rs);
    if (v !== undefined) out.set(v, rs);
  }
  return out;
}

/** Go's tabwriter-free PrefixWriter (kubectl's printTemplate writes to a plain buffer: tabs stay tabs). */
class PlainWriter extends TabWriter {
  private text = '';

  constructor() {
    super(DESCRIBE_TABWRITER);
  }

  override write(text: string): void {
    this.text += text;
  }

  override flush(): void {}

  override toString(): string {
    return this.text;
  }
}

/** printTemplate: describe's `Pod Template:` section, unaligned. */
export function printTemplate(template: PodTemplateSpec | null | undefined): string {
  const out = new PlainWriter();
  describePodTemplate(template, new PrefixWriter(out));
  return out.toString();
}

/**
 * DeploymentHistoryViewer.ViewHistory: the REVISION / CHANGE-CAUSE table, or
 * one revision's pod template (with its change cause among the annotations).
 */
export function viewHistory(sets: readonly RS[], revision: number): string {
  const templates = new Map<number, PodTemplateSpec>();
  for (const [v, rs] of byRevision(sets)) {
    const template: PodTemplateSpec = structuredClone(rs.spec?.template ?? {});
    const cause = rs.metadata.annotations?.[CHANGE_CAUSE];
    template.metadata = { ...(template.metadata ?? {}), annotations: { ...(template.metadata?.annotations ?? {}) } };
    if (cause) template.metadata.annotations![CHANGE_CAUSE] = cause;
    templates.set(v, template);
  }
  if (templates.size === 0) return 'No rollout history found.';
  if (revision > 0) {
    const template = templates.get(revision);
    if (!template) throw new CliError('unable to find the specified revision');
    return printTemplate(template);
  }
  const tw = new TabWriter(DESCRIBE_TABWRITER);
  tw.write('REVISION\tCHANGE-CAUSE\n');
  for (const v of [...templates.keys()].sort((a, b) => a - b)) {
    tw.write(`${v}\t${templates.get(v)!.metadata?.annotations?.[CHANGE_CAUSE] || '<none>'}\n`);
  }
  return tw.toString();
}

/**
 * deploymentRevision: the ReplicaSet of `toRevision`, or with 0 the one of
 * the second-highest revision (the rollout before the current one).
 */
export function rollbackTarget(d: D, sets: readonly RS[], toRevision: number): RS {
  let latest: { v: number; rs: RS } | undefined;
  let previous: { v: number; rs: RS } | undefined;
  for (const rs of sets) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (toRevision === 0) {
      if ((latest?.v ?? -1) < v) {
        previous = latest;
        latest = { v, rs };
      } else if ((previous?.v ?? -1) < v) {
        previous = { v, rs };
      }
    } else if (v === toRevision) {
      return rs;
    }
  }
  if (toRevision > 0) throw revisionNotFound(toRevision);
  if (!previous) throw new CliError(`no rollout history found for deployment "${d.metadata.name}"`);
  return previous.rs;
}

export function revisionNotFound(revision: number): CliError {
  return new CliError(`unable to find specified revision ${revision} in history`);
}

/**
 * getDeploymentPatch: the JSON patch that puts the ReplicaSet's template
 * (without its hash label) back into the Deployment, and the annotations the
 * rollback carries: the Deployment's own bookkeeping ones, the ReplicaSet's
 * for the rest (its change cause, say).
 */
export function rollbackPatch(d: D, rs: RS): unknown[] {
  const template = structuredClone(rs.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH];
  const annotations: Record<string, string> = {};
  for (const k of ANNOTATIONS_TO_SKIP) {
    const v = d.metadata.annotations?.[k];
    if (v !== undefined) annotations[k] = v;
  }
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  return [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}

/** Go's time.Now().Format(time.RFC3339): local time to the second, `Z` or `±hh:mm`. */
export function rfc3339Local(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`;
}
