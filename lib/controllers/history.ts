/**
 * The revision history of a StatefulSet or DaemonSet as ControllerRevisions,
 * after kube's pkg/controller/history: one revision per distinct template,
 * named `<owner>-<hash>`, numbered so that the live template has the highest
 * number; `kubectl rollout history|undo` read the same objects. Revision data
 * is the owner's template as a strategic merge patch that replaces it
 * (`{"spec":{"template":{…,"$patch":"replace"}}}`), which is what `kubectl
 * rollout undo` applies to roll back.
 *
 * Invariants: revisions are created only by conditional creates (a name
 * taken by a different template bumps the collision count and retries, as
 * kube's CreateControllerRevision); a revision's data never changes (the
 * kind's validation refuses it), only its number (a rollback renumbers the
 * revision it returns to).
 */
import type { ControllerRevision } from '../api/apps/v1/controllerrevision.js';
import type { PodTemplateSpec } from '../api/core/v1/pod.js';
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import type { Selector } from '../api/labels.js';
import { newControllerRef } from '../api/meta/v1/owner-references.js';
import { valueHash } from '../api/names.js';
import type { KObject } from '../api/object.js';
import type { KubeClient } from '../client/client.js';
import { CONTROLLER_REVISIONS } from '../kinds/resources.js';
import { deepEqual } from '../util/json.js';
import { claimObjects } from './pod-claims.js';

export type Revision = ControllerRevision & KObject;

/** The label every ControllerRevision carries: the hash of its data (kube's history.ControllerRevisionHashLabel). */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** The label on a StatefulSet's or DaemonSet's pods naming their revision (apps.ControllerRevisionHashLabelKey). */
export const POD_REVISION_LABEL = 'controller-revision-hash';

/** kube's ControllerRevisionName: the owner's name (cut to 223 characters, so the name fits 253) and the hash. */
export function revisionName(owner: string, hash: string): string {
  return `${owner.length > 223 ? owner.slice(0, 223) : owner}-${hash}`;
}

/** The strategic merge patch that puts `template` back (getPatch in kube's StatefulSet and DaemonSet controllers). */
export function templatePatch(template: PodTemplateSpec | null | undefined): Record<string, unknown> {
  return { spec: { template: { ...(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision's data holds (undefined for data not written by templatePatch). */
export function revisionTemplate(rev: Revision): PodTemplateSpec | undefined {
  const spec = (rev.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined)?.spec;
  if (!spec?.template) return undefined;
  const { $patch: _, ...template } = spec.template;
  return template;
}

/**
 * kube's NewControllerRevision: a revision of `owner` holding `data`, with
 * the template's labels, the hash label and a controller reference; its name
 * is hashed with `collisionCount`.
 */
export function newRevision(
  owner: KObject,
  templateLabels: Record<string, string> | null | undefined,
  data: unknown,
  revision: number,
  collisionCount: number,
): Revision {
  const hash = valueHash(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.metadata.name ?? '', hash),
      namespace: owner.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(owner)],
    },
    data,
    revision,
  };
}

/** kube's EqualRevision: the same data (and hash label, when both have one). */
export function equalRevision(a: Revision, b: Revision): boolean {
  const ha = a.metadata.labels?.[REVISION_HASH_LABEL];
  const hb = b.metadata.labels?.[REVISION_HASH_LABEL];
  if (ha !== undefined && hb !== undefined && ha !== hb) return false;
  return deepEqual(a.data, b.data);
}

/** Oldest first: by revision number, then creation time, then name (kube's byRevision). */
export function sortRevisions(revs: readonly Revision[]): Revision[] {
  return [...revs].sort(
    (a, b) =>
      (a.revision ?? 0) - (b.revision ?? 0) ||
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

/** The number the next new revision takes: one more than the highest (1 when there is none). */
export function nextRevisionNumber(revs: readonly Revision[]): number {
  return revs.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1;
}

/** The owner's ControllerRevisions, adopting orphans that match its selector and releasing its own that no longer do. */
export async function ownedRevisions(client: KubeClient, owner: KObject, selector: Selector): Promise<Revision[]> {
  // claimObjects leaves out revisions another controller owns.
  const all = await client.listAll<Revision>(CONTROLLER_REVISIONS, owner.metadata.namespace);
  return claimObjects({ client, owner, rt: CONTROLLER_REVISIONS, selector, objects: all.items });
}

/**
 * kube's CreateControllerRevision: creates `rev` under the name its data and
 * collision count hash to; an existing revision there with the same data is
 * returned as is, one with other data bumps the count and retries. Returns
 * the revision and the count the owner must record.
 */
export async function createRevision(
  client: KubeClient,
  owner: KObject,
  rev: Revision,
  collisionCount: number,
): Promise<{ revision: Revision; collisionCount: number }> {
  let count = collisionCount;
  for (;;) {
    const candidate: Revision = { ...rev, metadata: { ...rev.metadata, name: revisionName(owner.metadata.name ?? '', valueHash(rev.data, count)) } };
    try {
      return { revision: await client.create<Revision>(CONTROLLER_REVISIONS, owner.metadata.namespace, candidate), collisionCount: count };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<Revision>(CONTROLLER_REVISIONS, owner.metadata.namespace, candidate.metadata.name ?? '');
      if (deepEqual(existing.data, candidate.data)) return { revision: existing, collisionCount: count };
      count++;
    }
  }
}

/** Renumbers a revision (a rollback to it makes it the newest); a no-op when it already has `revision`. */
export async function renumberRevision(client: KubeClient, rev: Revision, revision: number): Promise<Revision> {
  if (rev.revision === revision) return rev;
  return client.update<Revision>(CONTROLLER_REVISIONS, { ...rev, revision } as KObject);
}

/**
 * Deletes the oldest revisions beyond `limit` that no live pod or status
 * names (`live`: revision names kept regardless), as kube's truncateHistory.
 */
export async function truncateHistory(client: KubeClient, revs: readonly Revision[], live: ReadonlySet<string>, limit: number): Promise<void> {
  const old = sortRevisions(revs).filter((r) => !live.has(r.metadata.name ?? ''));
  for (const r of old.slice(0, Math.max(0, old.length - limit))) {
    try {
      await client.delete(CONTROLLER_REVISIONS, r.metadata.namespace, r.metadata.name ?? '');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
