/** The vendored public CRDs (headers name their source and version), parsed and defaulted as the API server would. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { parse } from 'yaml';
import { CustomResourceDefinitionSchema, defaultCustomResourceDefinition, type CustomResourceDefinition } from '#lib/apiextensions/index';
import { startApi, type TestApi } from '../apiserver/harness.js';

export const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/**
 * The API server of a test file, started before its tests and closed after
 * them: the returned object forwards to it (used inside tests only).
 */
export function apiPerFile(): TestApi {
  let api: TestApi | undefined;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });
  return new Proxy({} as TestApi, {
    get(_, prop) {
      if (!api) throw new Error('the API server is not started (use it inside tests)');
      const value: unknown = Reflect.get(api, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(api) : value;
    },
  });
}

/** Parsed manifests by name: YAML parsing of the 600 kB Alertmanager CRD dominates these tests, so it happens once. */
const parsed = new Map<string, unknown>();

export function loadCRD(name: string): CustomResourceDefinition {
  if (!parsed.has(name)) parsed.set(name, parse(readFileSync(new URL(`./fixtures/${name}.yaml`, import.meta.url), 'utf8')));
  const crd = CustomResourceDefinitionSchema.parse(structuredClone(parsed.get(name)));
  defaultCustomResourceDefinition(crd);
  return crd;
}

/** A small valid CRD to break one field at a time. */
export function widgetCRD(): CustomResourceDefinition {
  const crd = CustomResourceDefinitionSchema.parse({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', kind: 'Widget' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { replicas: { type: 'integer', default: 1 }, name: { type: 'string' } } },
                status: { type: 'object', properties: { replicas: { type: 'integer' } } },
              },
            },
          },
        },
      ],
    },
  });
  defaultCustomResourceDefinition(crd);
  return crd;
}
