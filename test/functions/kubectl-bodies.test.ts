/**
 * What kubectl sends besides JSON, through the Lambda front door: protobuf
 * bodies (base64-encoded by Function URLs), server-side apply patches, and
 * the OpenAPI documents apply and explain fetch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Wire } from '../apiserver/harness.js';
import { functionUrlEvent, invocationContext, type EventOptions } from './events.js';

process.env.KUMO_SQLITE_PATH = ':memory:';
const { handler } = await import('../../functions/api.js');

async function call(method: string, path: string, opts: EventOptions = {}): Promise<{ status: number; headers: Record<string, string>; body: Wire }> {
  const raw = await handler(functionUrlEvent(method, path, opts), invocationContext());
  const headers = (raw.headers ?? {}) as Record<string, string>;
  const bytes = raw.isBase64Encoded ? Buffer.from(raw.body ?? '', 'base64') : Buffer.from(raw.body ?? '');
  // Large documents come gzipped to clients that accept it (kubectl does).
  const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
  return { status: raw.statusCode ?? 0, headers, body: (headers['content-type'] ?? '').includes('json') && text !== '' ? JSON.parse(text) : text };
}

describe('the Lambda front door with kubectl bodies', () => {
  it('creates from a base64-encoded protobuf body', async () => {
    const body = readFileSync(join(import.meta.dirname, '..', 'apiserver', 'fixtures', 'create-deployment.pb'));
    const r = await call('POST', '/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-create&fieldValidation=Strict', {
      body,
      base64: true,
      contentType: 'application/vnd.kubernetes.protobuf',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } });
  });

  it('applies server-side: 201 on create, 409 on a conflict', async () => {
    const cm = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { k: v } });
    const created = await call('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=a&fieldValidation=Strict&force=false', {
      body: cm('1'),
      contentType: 'application/apply-patch+yaml',
    });
    expect(created.status).toBe(201);
    const conflict = await call('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=b&fieldValidation=Strict&force=false', {
      body: cm('2'),
      contentType: 'application/apply-patch+yaml',
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe('Apply failed with 1 conflict: conflict with "a": .data.k');
  });

  it('serves the OpenAPI index, a group/version document and the (empty) v2 document', async () => {
    const index = await call('GET', '/openapi/v3?timeout=32s');
    const url: string = index.body.paths['apis/apps/v1'].serverRelativeURL;
    const doc = await call('GET', `${url}&timeout=32s`);
    expect(doc.status).toBe(200);
    expect(doc.headers['content-encoding']).toBe('gzip');
    expect(doc.body.components.schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'apps', version: 'v1', kind: 'Deployment' },
    ]);
    const v2 = await call('GET', '/openapi/v2?timeout=32s');
    expect(v2.status).toBe(200);
  });
});
