/**
 * OpenAPI v3 documents. kubectl fetches /openapi/v3 before `apply` and
 * `create -f`; per group/version it needs, for each kind, a path whose PATCH
 * operation carries `x-kubernetes-group-version-kind` and a `fieldValidation`
 * query parameter. Then it sends `fieldValidation=Strict` and leaves
 * validation to the server.
 */
import { z } from 'zod';
import { apiVersionOf, resourceTypes } from '../api/registry.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiIndex() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const t of resourceTypes) {
    const p = gvPath(t.group, t.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=kumo1` };
  }
  return { paths };
}

function schemaName(group: string, version: string, kind: string): string {
  return `io.k8s.api.${group ? group.split('.')[0] : 'core'}.${version}.${kind}`;
}

const schemaCache = new Map<string, unknown>();

export function openApiDocument(path: string): unknown {
  const types = resourceTypes.filter((t) => gvPath(t.group, t.version) === path);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const base = t.namespaced ? `/${path}/namespaces/{namespace}/${t.resource}/{name}` : `/${path}/${t.resource}/{name}`;
    const op = (action: string) => ({
      operationId: `${action}${t.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
      responses: { '200': { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(t.group, t.version, t.kind)}` } } } } },
    });
    paths[base] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    const name = schemaName(t.group, t.version, t.kind);
    let schema = schemaCache.get(name);
    if (!schema) {
      schema = {
        ...(z.toJSONSchema(t.schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>),
        'x-kubernetes-group-version-kind': [gvk],
        description: `${t.kind} (${apiVersionOf(t)}) as served by kumo.`,
      };
      delete (schema as Record<string, unknown>).$schema;
      schemaCache.set(name, schema);
    }
    schemas[name] = schema;
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.35.0-kumo' }, paths, components: { schemas } };
}
