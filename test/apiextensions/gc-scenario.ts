/**
 * Garbage collection across built-in and custom kinds, written once and run
 * locally (test/apiextensions/gc-local.test.ts) and in the cloud
 * (test/cloud/crd-gc.test.ts): a custom object owned by a ConfigMap, and a
 * ConfigMap owned by a custom object, are collected when their owner goes.
 * The CRD is created after the controllers started, so they must follow a
 * kind registered at run time.
 */
import { expect } from 'vitest';
import type { KObject } from '#lib/api/object';
import type { ResourceType } from '#lib/api/registry';
import type { KubeClient } from '#lib/client/client';
import { CONFIGMAPS } from '#lib/kinds/resources';
import { customResourceDefinitionKind } from '#lib/kinds/customresourcedefinition';
import { widgetCRD } from './fixtures.js';
import { waitFor } from '../helpers/wait.js';

const ownerRef = (owner: KObject) => ({ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid! });

/** Runs the scenario through `client`; `widgets` finds the custom kind once served. */
export async function collectsAcrossCustomKinds(client: KubeClient, widgets: () => ResourceType | undefined, timeoutMs: number): Promise<void> {
  await client.create(customResourceDefinitionKind, undefined, widgetCRD() as unknown as KObject);
  const rt = await waitFor(
    async () => {
      // A request for the custom resource makes the API server look at the CRDs.
      await client.list(customResourceDefinitionKind, undefined);
      return widgets();
    },
    { what: 'widgets served' },
  );
  const widget = (name: string, owners: KObject[] = []): KObject => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name, ...(owners.length > 0 ? { ownerReferences: owners.map(ownerRef) } : {}) },
  });
  const configMap = (name: string, owners: KObject[] = []): KObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(owners.length > 0 ? { ownerReferences: owners.map(ownerRef) } : {}) },
  });

  // A custom object owned by a ConfigMap.
  const cmOwner = await client.create(CONFIGMAPS, 'default', configMap('owner'));
  await client.create(rt, 'default', widget('owned', [cmOwner]));
  // A ConfigMap owned by a custom object.
  const widgetOwner = await client.create(rt, 'default', widget('owner'));
  await client.create(CONFIGMAPS, 'default', configMap('owned', [widgetOwner]));

  await client.delete(CONFIGMAPS, 'default', 'owner');
  await client.delete(rt, 'default', 'owner');
  await waitFor(async () => (await client.find(rt, 'default', 'owned')) === undefined, { what: 'the widget owned by a ConfigMap collected', timeoutMs });
  await waitFor(async () => (await client.find(CONFIGMAPS, 'default', 'owned')) === undefined, {
    what: 'the ConfigMap owned by a widget collected',
    timeoutMs,
  });
  expect(await client.find(rt, 'default', 'owner')).toBeUndefined();
}
