/**
 * Pure pieces of the CLI: Go's tabwriter layout, kubectl's three-way apply
 * patch (checked against patches kubectl v1.35 sent for the same inputs),
 * and error wording.
 */
import { describe, expect, it } from 'vitest';
import { StatusError } from '#lib/api/errors';
import { patchSchemaFor, strategicMerge } from '#lib/apiserver/strategic-merge';
import { threeWayMergePatch } from '#lib/cli/apply/three-way';
import { AggregateCliError, CliError, formatError } from '#lib/cli/errors';
import { DESCRIBE_TABWRITER, GET_TABWRITER, TabWriter } from '#lib/printers/tabwriter';
import { camelSplit, smartLabel } from '#lib/printers/describe/generic';

function layout(text: string, opts = GET_TABWRITER): string {
  const tw = new TabWriter(opts);
  tw.write(text);
  return tw.toString();
}

describe('TabWriter', () => {
  it('pads each column to its widest cell plus the padding, at least the minimum width', () => {
    expect(layout('NAME\tREADY\tAGE\nnginx\t0/1\t5s\nx\t1/1\t10m\n')).toBe('NAME    READY   AGE\nnginx   0/1     5s\nx       1/1     10m\n');
    expect(layout('A\tB\n1\t2\n')).toBe('A     B\n1     2\n');
  });

  it('aligns only runs of lines that have the column (column blocks), as describe relies on', () => {
    const text = 'Name:\tnginx\nContainers:\n  nginx:\n    Image:\tnginx\n    Environment:\t<none>\nVolumes:\t<none>\n';
    expect(layout(text, DESCRIBE_TABWRITER)).toBe(
      'Name:  nginx\nContainers:\n  nginx:\n    Image:        nginx\n    Environment:  <none>\nVolumes:          <none>\n',
    );
  });

  it('starts new blocks after a flush and keeps a trailing empty cell padded', () => {
    const tw = new TabWriter(DESCRIBE_TABWRITER);
    tw.write('Long title:\tx\nIP:\t\n');
    tw.flush();
    tw.write('A:\tb\n');
    expect(tw.toString()).toBe('Long title:  x\nIP:          \nA:  b\n');
  });
});

describe('TabWriter with remembered widths', () => {
  it('keeps columns at least as wide as in earlier flushes, as get -w needs', () => {
    const tw = new TabWriter({ ...GET_TABWRITER, rememberWidths: true });
    tw.write('NAME\tSTATUS\nlong-name\tPending\n');
    expect(tw.take()).toBe('NAME        STATUS\nlong-name   Pending\n');
    tw.write('x\tRunning\n');
    expect(tw.take()).toBe('x           Running\n');
  });
});

describe('threeWayMergePatch', () => {
  const deployment = (containers: unknown[], labels?: Record<string, string>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...(labels ? { labels } : {}) },
    spec: { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
  });
  const schema = patchSchemaFor('Deployment');

  it('is empty when the manifest matches the live object, whatever the server defaulted', () => {
    const manifest = deployment([{ name: 'nginx', image: 'nginx:1.16' }]);
    const live = structuredClone(manifest) as ReturnType<typeof deployment> & { status?: unknown };
    (live.spec.template.spec.containers[0] as Record<string, unknown>).imagePullPolicy = 'IfNotPresent';
    live.status = { replicas: 3 };
    expect(threeWayMergePatch(manifest, manifest, live, schema)).toEqual({});
  });

  it('adds fields and list items by merge key with $setElementOrder, as kubectl does', () => {
    const original = deployment([{ name: 'nginx', image: 'nginx:1.16' }]);
    const modified = deployment(
      [
        { name: 'nginx', image: 'nginx:1.16', env: [{ name: 'A', value: '1' }] },
        { name: 'side', image: 'busybox' },
      ],
      { tier: 'front' },
    );
    // kubectl v1.35 sent this patch for the same three objects.
    expect(threeWayMergePatch(original, modified, original, schema)).toEqual({
      metadata: { labels: { tier: 'front' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'side' }],
            containers: [
              { env: [{ name: 'A', value: '1' }], name: 'nginx' },
              { image: 'busybox', name: 'side' },
            ],
          },
        },
      },
    });
  });

  it('deletes what the last applied manifest had and the new one lacks', () => {
    const original = deployment(
      [
        { name: 'nginx', image: 'nginx:1.16', env: [{ name: 'A', value: '1' }] },
        { name: 'side', image: 'busybox' },
      ],
      { tier: 'front' },
    );
    const modified = deployment([{ name: 'nginx', image: 'nginx:1.16' }]);
    const patch = threeWayMergePatch(original, modified, original, schema);
    // kubectl v1.35's patch for the same inputs.
    expect(patch).toEqual({
      metadata: { labels: null },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [
              { env: null, name: 'nginx' },
              { $patch: 'delete', name: 'side' },
            ],
          },
        },
      },
    });
    const result = strategicMerge(original, patch, 'Deployment') as ReturnType<typeof deployment>;
    expect(result.metadata.labels).toBeUndefined();
    expect(result.spec.template.spec.containers).toEqual([{ name: 'nginx', image: 'nginx:1.16' }]);
  });

  it('leaves fields other writers set when the manifest never had them', () => {
    const manifest = deployment([{ name: 'nginx', image: 'nginx:1.16' }]);
    const live = structuredClone(manifest);
    live.spec.replicas = 5;
    (live.metadata as Record<string, unknown>).annotations = { 'deployment.kubernetes.io/revision': '1' };
    expect(threeWayMergePatch(manifest, manifest, live, schema)).toEqual({ spec: { replicas: 3 } });
  });
});

describe('formatError', () => {
  it('words Status errors as kubectl does', () => {
    expect(formatError(new StatusError(404, 'NotFound', 'pods "nope" not found'))).toBe('Error from server (NotFound): pods "nope" not found\n');
    const invalid = StatusError.invalid('Pod', '', 'x', [{ type: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' }]);
    expect(formatError(invalid)).toBe('The Pod "x" is invalid: spec.containers: Required value\n');
    expect(formatError(new CliError('the server doesn\'t have a resource type "foos"'))).toBe('error: the server doesn\'t have a resource type "foos"\n');
  });

  it('prints one line per error of several, without the error: prefix', () => {
    const errs = new AggregateCliError([new StatusError(404, 'NotFound', 'pods "a" not found'), new CliError('resource mapping not found')]);
    expect(formatError(errs)).toBe('Error from server (NotFound): pods "a" not found\nresource mapping not found\n');
  });

  it('names a refused connection by host and port', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(formatError(err, 'http://127.0.0.1:1')).toBe('The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n');
  });
});

describe('smart labels of the generic describer', () => {
  it('splits camel case and upper-cases known acronyms', () => {
    expect(camelSplit('PDFLoader')).toEqual(['PDF', 'Loader']);
    expect(smartLabel('involvedObject')).toBe('Involved Object');
    expect(smartLabel('apiVersion')).toBe('API Version');
    expect(smartLabel('podIP')).toBe('Pod Ip');
    expect(smartLabel('x.y')).toBe('x.y');
  });
});
