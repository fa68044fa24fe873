import { describe, expect, it } from 'vitest';
import { newCustomResourceHandler, newSchemaValidator, type CustomResourceDefinition, type JSONSchemaProps } from '#lib/apiextensions/index';
import { loadCRD } from './fixtures.js';

const text = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

function handlerFor(crd: CustomResourceDefinition, opts: { timeLimitMs?: number } = {}) {
  const v = crd.spec.versions![0]!;
  return newCustomResourceHandler(
    { group: crd.spec.group!, version: v.name!, kind: crd.spec.names!.kind!, schema: v.schema!.openAPIV3Schema!, scale: v.subresources?.scale },
    opts,
  );
}

const meta = { name: 'x', namespace: 'default' };

/** A handler for example.com/v1 Widget whose root schema declares these properties. */
const widgetHandler = (properties: Record<string, JSONSchemaProps>, opts: { timeLimitMs?: number } = {}) =>
  newCustomResourceHandler({ group: 'example.com', version: 'v1', kind: 'Widget', schema: { type: 'object', properties } }, opts);

describe('a custom object against its schema', () => {
  const schema: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        required: ['name'],
        properties: {
          replicas: { type: 'integer', minimum: 0, maximum: 10 },
          ratio: { type: 'number', exclusiveMinimum: true, minimum: 0, multipleOf: 0.5 },
          name: { type: 'string', maxLength: 8, minLength: 2, pattern: '^[a-z]+$' },
          mode: { type: 'string', enum: ['fast', 'safe'] },
          port: { 'x-kubernetes-int-or-string': true },
          when: { type: 'string', format: 'date-time' },
          owner: { type: 'string', nullable: true },
          tags: { type: 'array', maxItems: 2, minItems: 1, items: { type: 'string' } },
          labels: { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } },
        },
      },
    },
  };
  const validate = (spec: unknown) => text(newSchemaValidator(schema).validate({ spec }));

  it('accepts a valid object, nulls where nullable and both forms of int-or-string', () => {
    expect(validate({ name: 'web', replicas: 3, ratio: 1.5, port: 'http', owner: null, when: '2026-01-02T03:04:05Z' })).toEqual([]);
    expect(validate({ name: 'web', port: 8080 })).toEqual([]);
  });

  it("words type errors as kube does, naming the value's JSON type", () => {
    expect(validate({ name: 'web', replicas: 'three', port: true, tags: ['a', 3], mode: null })).toEqual([
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      'spec.mode: Invalid value: "null": spec.mode in body must be of type string: "null"',
      'spec.mode: Unsupported value: null: supported values: "fast", "safe"',
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
      'spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer"',
    ]);
  });

  it('reports required fields, enums, patterns, lengths, bounds, multiples, counts and formats', () => {
    expect(validate({ replicas: 11, ratio: 0.7, mode: 'slow', when: 'yesterday', tags: [], labels: { a: 'x', b: 'y' } })).toEqual([
      'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
      'spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5',
      'spec.mode: Unsupported value: "slow": supported values: "fast", "safe"',
      'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
      'spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items',
      'spec.labels: Too many: 2: must have at most 1 items',
      'spec.name: Required value',
    ]);
    expect(validate({ name: 'WEB', ratio: 0, tags: ['a', 'b', 'c'] })).toEqual([
      'spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0',
      'spec.name: Invalid value: "WEB": spec.name in body should match \'^[a-z]+$\'',
      'spec.tags: Too many: 3: must have at most 2 items',
    ]);
    // kube's string validator stops at the first failure: maxLength before pattern.
    expect(validate({ name: 'WAYTOOLONG' })).toEqual(['spec.name: Too long: may not be more than 8 bytes']);
    expect(validate({ name: 'a' })).toEqual(['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']);
  });
});

describe('pruning and defaulting a public CRD', () => {
  it('drops unknown fields, reports their paths, and keeps apiVersion, kind and metadata', () => {
    // Arrange
    const h = handlerFor(loadCRD('servicemonitors.monitoring.coreos.com'));
    const obj = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { ...meta, labels: { team: 'a' } },
      spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'http', bogus: 1 }], extra: true },
      unknownTop: 1,
    };

    // Act
    const pruned = h.prune(obj);

    // Assert
    expect(pruned).toEqual(['spec.endpoints[0].bogus', 'spec.extra', 'unknownTop']);
    expect(obj).toEqual({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { ...meta, labels: { team: 'a' } },
      spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'http' }] },
    });
  });

  it('keeps what x-kubernetes-preserve-unknown-fields preserves', () => {
    const h = widgetHandler({
      spec: {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        properties: { known: { type: 'object', properties: { a: { type: 'string' } } } },
      },
    });
    const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta, spec: { free: { any: 1 }, known: { a: 'x', b: 'y' } } };
    expect(h.prune(obj)).toEqual(['spec.known.b']);
    expect(obj.spec).toEqual({ free: { any: 1 }, known: { a: 'x' } });
  });

  it('applies a default inside list items (a relabeling action defaults to replace)', () => {
    const h = handlerFor(loadCRD('servicemonitors.monitoring.coreos.com'));
    const obj = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta,
      spec: {
        selector: {},
        endpoints: [
          {
            port: 'http',
            relabelings: [
              { sourceLabels: ['__meta_x'], targetLabel: 'x' },
              { action: 'drop', sourceLabels: ['y'] },
            ],
          },
        ],
      },
    };
    h.applyDefaults(obj);
    expect(obj.spec.endpoints[0]!.relabelings.map((r) => (r as { action?: string }).action)).toEqual(['replace', 'drop']);
    expect(text(h.validate(obj))).toEqual([]);
  });

  it('defaults absent fields and non-nullable nulls, and drops nulls that have no default', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { size: { type: 'integer', default: 1 }, mode: { type: 'string', default: 'a' }, note: { type: 'string' } },
          additionalProperties: undefined,
        },
        status: { type: 'object', properties: { counts: { type: 'object', additionalProperties: { type: 'integer', default: 0 } } } },
      },
    };
    const h = widgetHandler(schema.properties!);
    const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta, spec: { mode: null, note: null }, status: { counts: { a: null, b: 2 } } };
    h.applyDefaults(obj);
    expect(obj.spec).toEqual({ size: 1, mode: 'a' });
    expect(obj.status).toEqual({ counts: { a: 0, b: 2 } });
  });
});

describe('validating a whole custom object', () => {
  const alertmanager = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Alertmanager',
    metadata: meta,
    spec,
    ...(status ? { status } : {}),
  });

  it("runs the CRD's CEL rule and reports its message", () => {
    const h = handlerFor(loadCRD('alertmanagers.monitoring.coreos.com'));
    expect(text(h.validate(alertmanager({ replicas: 1, updateStrategy: { type: 'RollingUpdate', rollingUpdate: {} } })))).toEqual([]);
    expect(text(h.validate(alertmanager({ replicas: 1, updateStrategy: { type: 'OnDelete', rollingUpdate: {} } })))).toEqual([
      'spec.updateStrategy: Invalid value: rollingUpdate requires type to be RollingUpdate',
    ]);
  });

  it('checks the scale subresource replicas paths', () => {
    const h = handlerFor(loadCRD('alertmanagers.monitoring.coreos.com'));
    expect(text(h.validate(alertmanager({ replicas: -1 })))).toEqual(['.spec.replicas: Invalid value: -1: should be a non-negative integer']);
    expect(text(h.validate(alertmanager({ replicas: 1 }, { replicas: 3000000000 })))).toContain(
      '.status.replicas: Invalid value: 3000000000: should be less than or equal to 2147483647',
    );
  });

  it('refuses the wrong kind or apiVersion before anything else', () => {
    const h = handlerFor(loadCRD('certificates.cert-manager.io'));
    expect(text(h.validate({ apiVersion: 'cert-manager.io/v2', kind: 'Cert', metadata: meta, spec: {} }))).toEqual([
      'kind: Invalid value: "Cert": must be Certificate',
      'apiVersion: Invalid value: "cert-manager.io/v2": must be cert-manager.io/v1',
    ]);
  });

  it("skips CEL rules after a blocking error, with kube's note", () => {
    const h = handlerFor(loadCRD('alertmanagers.monitoring.coreos.com'));
    expect(text(h.validate(alertmanager({ replicas: 'one', updateStrategy: { type: 'OnDelete', rollingUpdate: {} } })))).toEqual([
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      '.spec.replicas: Invalid value: 0: spec.replicas accessor error: "one" is of the type string, expected int64',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  it('validates only status through the status subresource', () => {
    const h = handlerFor(loadCRD('certificates.cert-manager.io'));
    const obj = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: meta, spec: { secretName: 3 }, status: { revision: 'two' } };
    // kube validates status against the status schema as a root of its own: the message names `revision`.
    expect(text(h.validateStatus(obj, obj))).toEqual(['status.revision: Invalid value: "string": revision in body must be of type integer: "string"']);
  });

  it('reports duplicates in set and map lists at their second occurrence', () => {
    const h = widgetHandler({
      spec: {
        type: 'object',
        properties: {
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['port', 'protocol'],
            items: { type: 'object', required: ['port', 'protocol'], properties: { port: { type: 'integer' }, protocol: { type: 'string' } } },
          },
        },
      },
    });
    const obj = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: meta,
      spec: {
        tags: ['a', 'b', 'a', 'a'],
        ports: [
          { port: 80, protocol: 'TCP' },
          { port: 80, protocol: 'UDP' },
          { port: 80, protocol: 'TCP' },
        ],
      },
    };
    expect(text(h.validate(obj))).toEqual(['spec.tags[2]: Duplicate value: "a"', 'spec.ports[2]: Duplicate value: {"port":80,"protocol":"TCP"}']);
  });

  it('requires apiVersion and kind of an embedded resource and validates its metadata', () => {
    const h = newCustomResourceHandler({
      group: 'example.com',
      version: 'v1',
      kind: 'Wrapper',
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: { template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    });
    const obj = {
      apiVersion: 'example.com/v1',
      kind: 'Wrapper',
      metadata: meta,
      spec: { template: { kind: 'config_map', metadata: { name: 'a/b', labels: { 'bad key!': 'v' } } } },
    };
    const errs = text(h.validate(obj));
    expect(errs.slice(0, 4)).toEqual([
      'spec.template.apiVersion: Required value',
      expect.stringMatching(
        /^spec\.template\.kind: Invalid value: "config_map": may have mixed case, but should otherwise match: a DNS-1035 label must consist of/,
      ),
      'spec.template.metadata.name: Invalid value: "a/b": may not contain \'/\'',
      expect.stringMatching(/^spec\.template\.metadata\.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters/),
    ]);
  });
});

describe('x-kubernetes-validations', () => {
  const schema = (rules: JSONSchemaProps['x-kubernetes-validations'], extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': rules,
        properties: {
          replicas: { type: 'integer' },
          maxReplicas: { type: 'integer' },
          name: { type: 'string' },
          url: { type: 'string' },
          memory: { type: 'string' },
        },
        ...extra,
      },
    },
  });
  const widget = (spec: Record<string, unknown>) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta, spec });
  const handler = (s: JSONSchemaProps, timeLimitMs?: number) => widgetHandler(s.properties!, { timeLimitMs });

  it('uses message, messageExpression, reason and fieldPath', () => {
    const h = handler(
      schema([
        { rule: 'self.replicas <= self.maxReplicas', message: 'replicas must not exceed maxReplicas' },
        {
          rule: 'self.name.startsWith("w")',
          messageExpression: '"name " + self.name + " must start with w"',
          reason: 'FieldValueForbidden',
          fieldPath: '.name',
        },
        { rule: 'isURL(self.url) && url(self.url).getScheme() == "https"' },
        { rule: 'quantity(self.memory).isLessThan(quantity("1Gi"))', message: 'memory must be under 1Gi' },
      ]),
    );
    expect(text(h.validate(widget({ replicas: 5, maxReplicas: 3, name: 'gizmo', url: 'http://a', memory: '2Gi' })))).toEqual([
      'spec: Invalid value: replicas must not exceed maxReplicas',
      'spec.name: Forbidden: name gizmo must start with w',
      'spec: Invalid value: failed rule: isURL(self.url) && url(self.url).getScheme() == "https"',
      'spec: Invalid value: memory must be under 1Gi',
    ]);
    expect(text(h.validate(widget({ replicas: 1, maxReplicas: 3, name: 'web', url: 'https://a', memory: '512Mi' })))).toEqual([]);
  });

  it('runs transition rules on update only, and optionalOldSelf ones on create too', () => {
    const h = handler(
      schema([
        { rule: 'self.name == oldSelf.name', message: 'name is immutable' },
        { rule: '!oldSelf.hasValue() || self.replicas >= oldSelf.value().replicas', message: 'replicas may only grow', optionalOldSelf: true },
        { rule: 'oldSelf.hasValue() || self.replicas == 1', message: 'start with one replica', optionalOldSelf: true },
      ]),
    );
    expect(text(h.validate(widget({ name: 'a', replicas: 2 })))).toEqual(['spec: Invalid value: start with one replica']);
    expect(text(h.validate(widget({ name: 'b', replicas: 1 }), widget({ name: 'a', replicas: 2 })))).toEqual([
      'spec: Invalid value: name is immutable',
      'spec: Invalid value: replicas may only grow',
    ]);
  });

  it('reports an evaluation error with the rule', () => {
    const h = handler(schema([{ rule: 'self.missing == 1' }]));
    expect(text(h.validate(widget({ name: 'a' })))).toEqual(['spec: Invalid value: "object": No such key: missing evaluating rule: self.missing == 1']);
  });

  it('stops a rule that would run too long and refuses the object', () => {
    const h = handler(schema([{ rule: 'self.name.matches("^(a+)+$")' }]), 20);
    expect(text(h.validate(widget({ name: `${'a'.repeat(40)}!` })))).toEqual([
      'spec: Invalid value: "object": validation failed due to running out of cost budget, no further validation rules will be run',
    ]);
  });
});
