/**
 * ControllerRevisions, the history StatefulSets and DaemonSets keep: the kind
 * as the API serves it (data required and immutable, the revision number
 * changeable, kubectl's columns) and lib/controllers/history.ts over a real
 * API server (conditional creates, hash collisions, truncation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { CONTROLLER_REVISIONS } from '#lib/kinds/resources';
import type { KObject } from '#lib/api/object';
import {
  createRevision,
  newRevision,
  nextRevisionNumber,
  ownedRevisions,
  revisionTemplate,
  sortRevisions,
  templatePatch,
  truncateHistory,
  type Revision,
} from '#lib/controllers/history';
import { fromLabelSelector } from '#lib/api/labels';
import { deployment, DEPLOYMENTS, startApi, type TestApi } from '../apiserver/harness.js';

const REVISIONS = '/apis/apps/v1/namespaces/default/controllerrevisions';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

let t: TestApi;
let client: KubeClient;
let owner: KObject;

beforeAll(async () => {
  t = await startApi();
  client = new KubeClient(new InProcessTransport(t.api, ADMIN));
  owner = (await t.post(DEPLOYMENTS, deployment('web', 0))).body as KObject;
});
afterAll(() => t.close());

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });

describe('the ControllerRevision kind', () => {
  it('requires data and a non-negative revision, and never changes data', async () => {
    const missing = await t.post(REVISIONS, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'bad' }, revision: -1 });
    expect(missing.status).toBe(422);
    expect(missing.body.details.causes).toEqual([
      { reason: 'FieldValueRequired', field: 'data', message: 'Required value: data is mandatory' },
      { reason: 'FieldValueInvalid', field: 'revision', message: 'Invalid value: -1: must be greater than or equal to 0' },
    ]);
    expect((await t.get(`${REVISIONS}/bad`)).status).toBe(404);

    const made = await t.post(REVISIONS, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r1' }, data: { a: 1 }, revision: 1 });
    expect(made.status).toBe(201);
    const changed = await t.put(`${REVISIONS}/r1`, { ...made.body, data: { a: 2 } });
    expect(changed.status).toBe(422);
    expect(changed.body.message).toContain('data: Invalid value');
    expect(changed.body.message).toContain('field is immutable');
    const renumbered = await t.put(`${REVISIONS}/r1`, { ...made.body, revision: 7 });
    expect(renumbered.status).toBe(200);
    expect(renumbered.body.revision).toBe(7);
  });

  it('prints NAME, CONTROLLER (kind.group/name), REVISION and AGE as kubectl does', async () => {
    const rev = newRevision(owner, { app: 'web' }, templatePatch(template('a:1')), 1, 0);
    await t.post(REVISIONS, rev);
    const table = await t.get(`${REVISIONS}/${rev.metadata.name}`, { accept: TABLE });
    expect(table.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Controller', 'Revision', 'Age']);
    expect(table.body.rows[0].cells.slice(0, 3)).toEqual([rev.metadata.name, 'deployment.apps/web', 1]);
  });
});

describe('the history helpers', () => {
  it('create a revision once per template, bump the collision count when a name holds other data, and keep the template', async () => {
    const data = templatePatch(template('b:1'));
    const first = await createRevision(client, owner, newRevision(owner, { app: 'web' }, data, 2, 0), 0);
    expect(first.collisionCount).toBe(0);
    expect(first.revision.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(revisionTemplate(first.revision)).toEqual(template('b:1'));
    const again = await createRevision(client, owner, newRevision(owner, { app: 'web' }, data, 2, 0), 0);
    expect(again.revision.metadata.uid).toBe(first.revision.metadata.uid);

    // Another template's revision squatting on the name this one hashes to.
    const squat = newRevision(owner, { app: 'web' }, templatePatch(template('d:1')), 3, 0);
    await t.post(REVISIONS, { ...squat, data: { squatter: true } });
    const bumped = await createRevision(client, owner, squat, 0);
    expect(bumped.collisionCount).toBe(1);
    expect(bumped.revision.metadata.name).not.toBe(squat.metadata.name);
    expect(bumped.revision.data).toEqual(templatePatch(template('d:1')));
  });

  it('list the owner’s revisions, number the next one, and truncate all but the live and newest', async () => {
    const owned = await ownedRevisions(client, owner, fromLabelSelector({ matchLabels: { app: 'web' } }));
    expect(owned.length).toBeGreaterThanOrEqual(3);
    const sorted = sortRevisions(owned);
    expect(nextRevisionNumber(owned)).toBe((sorted.at(-1)!.revision ?? 0) + 1);
    const live = new Set([sorted[0]!.metadata.name!]);
    await truncateHistory(client, owned, live, 1);
    const left = (await client.listAll<Revision>(CONTROLLER_REVISIONS, 'default')).items.filter(
      (r) => r.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid,
    );
    expect(left.map((r) => r.metadata.name).sort()).toEqual([sorted[0]!.metadata.name, sorted.at(-1)!.metadata.name].sort());
  });
});
