/**
 * Protobuf request bodies, decoded from bytes kubectl v1.35 sent
 * (fixtures/create-*.pb, recorded from `kubectl create ...`), and over HTTP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobuf } from '#lib/apiserver/protobuf';
import { StatusError } from '#lib/api/errors';
import { DEPLOYMENTS, startApi, type TestApi } from './harness.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name));

/** A minimal protobuf writer for hand-made bodies. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
function field(n: number, payload: Uint8Array | string): number[] {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return [...varint((n << 3) | 2), ...varint(bytes.length), ...bytes];
}
function envelope(apiVersion: string, kind: string, raw: number[]): Buffer {
  const typeMeta = Uint8Array.from([...field(1, apiVersion), ...field(2, kind)]);
  return Buffer.from([0x6b, 0x38, 0x73, 0x00, ...field(1, typeMeta), ...field(2, Uint8Array.from(raw))]);
}

describe('decodeProtobuf', () => {
  it('decodes kubectl create deployment into the object Go would marshal as JSON', () => {
    expect(decodeProtobuf(fixture('create-deployment.pb'))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] } },
      },
    });
  });

  it('keeps an explicit zero of a pointer field (replicas: 0) while dropping zero values of plain fields', () => {
    const d = decodeProtobuf(fixture('create-deployment-zero.pb')) as { spec: Record<string, unknown>; metadata: Record<string, unknown> };
    expect(d.spec.replicas).toBe(0);
    expect(d.spec).not.toHaveProperty('minReadySeconds');
    expect(d.spec).not.toHaveProperty('paused');
    expect(d.metadata).not.toHaveProperty('creationTimestamp');
    expect(d).not.toHaveProperty('status');
  });

  it('decodes maps, bytes (base64), int-or-string and string lists', () => {
    expect(decodeProtobuf(fixture('create-configmap.pb'))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: 'b' } });
    expect(decodeProtobuf(fixture('create-secret.pb'))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's1' },
      data: { a: Buffer.from('b').toString('base64') },
    });
    expect(decodeProtobuf(fixture('create-service.pb'))).toMatchObject({
      spec: { type: 'ClusterIP', ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 's1' } },
    });
    expect(decodeProtobuf(fixture('create-job.pb'))).toMatchObject({
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'j1', image: 'busybox', command: ['echo', 'hi'] }] } } },
    });
  });

  it('decodes inline structs (a volume source) into their parent, and keeps empty pointer structs (emptyDir: {})', () => {
    // Volume{1: name, 2: VolumeSource{2: emptyDir{}}} inside PodSpec{1: volumes}, Pod{2: spec}.
    const volumeSource = field(2, new Uint8Array());
    const volume = [...field(1, 'scratch'), ...field(2, Uint8Array.from(volumeSource))];
    const podSpec = field(1, Uint8Array.from(volume));
    const pod = decodeProtobuf(envelope('v1', 'Pod', [...field(1, Uint8Array.from(field(1, 'p'))), ...field(2, Uint8Array.from(podSpec))]));
    expect(pod).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { volumes: [{ name: 'scratch', emptyDir: {} }] } });
  });

  it('refuses bodies that are not Kubernetes protobuf with a 400', () => {
    const bad = (body: Uint8Array) => {
      try {
        decodeProtobuf(body);
      } catch (err) {
        return err as StatusError;
      }
      throw new Error('decoded');
    };
    expect(bad(Buffer.from('{"kind":"Pod"}')).message).toMatch(/does not appear to be a protobuf message, expected prefix \[107 56 115 0\]/);
    expect(bad(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f])).code).toBe(400);
    expect(bad(envelope('v1', 'Gadget', []))).toMatchObject({ code: 400, message: 'no kind "Gadget" is registered for version "v1"' });
  });
});

describe('protobuf over HTTP', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates from a protobuf body and answers in JSON', async () => {
    const r = await t.post(`${DEPLOYMENTS}?fieldManager=kubectl-create&fieldValidation=Strict`, fixture('create-deployment.pb'), {
      contentType: 'application/vnd.kubernetes.protobuf',
      accept: 'application/vnd.kubernetes.protobuf,application/json',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.body).toMatchObject({
      kind: 'Deployment',
      metadata: { name: 'web', managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] },
      spec: { replicas: 3 },
    });
  });
});
