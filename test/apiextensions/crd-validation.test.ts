import { describe, expect, it } from 'vitest';
import {
  CustomResourceDefinitionSchema,
  defaultCustomResourceDefinition,
  validateCustomResourceDefinition,
  type CustomResourceDefinition,
  type JSONSchemaProps,
} from '#lib/apiextensions/index';
import { loadCRD, widgetCRD } from './fixtures.js';

/** What kubectl prints for each cause: `field: message`. */
const messages = (crd: CustomResourceDefinition, old?: CustomResourceDefinition) =>
  validateCustomResourceDefinition(crd, { old }).map((e) => `${e.field}: ${e.message}`);

function withWidget(change: (crd: CustomResourceDefinition, root: JSONSchemaProps, spec: JSONSchemaProps) => void): CustomResourceDefinition {
  const crd = widgetCRD();
  const root = crd.spec.versions![0]!.schema!.openAPIV3Schema!;
  change(crd, root, root.properties!.spec!);
  return crd;
}

describe('CustomResourceDefinition defaulting', () => {
  it('fills singular, listKind, conversion None and the stored version as kube does', () => {
    // Arrange
    const crd = CustomResourceDefinitionSchema.parse({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.example.com' },
      spec: { group: 'example.com', names: { plural: 'gadgets', kind: 'Gadget' }, scope: 'Cluster', versions: [{ name: 'v1', served: true, storage: true }] },
    });

    // Act
    defaultCustomResourceDefinition(crd);

    // Assert
    expect(crd.spec.names).toMatchObject({ singular: 'gadget', listKind: 'GadgetList' });
    expect(crd.spec.conversion).toEqual({ strategy: 'None' });
    expect(crd.status?.storedVersions).toEqual(['v1']);
  });

  it('defaults a conversion webhook service port to 443', () => {
    const crd = withWidget((c) => {
      c.spec.conversion = { strategy: 'Webhook', webhook: { clientConfig: { service: { namespace: 'ns', name: 'conv' } }, conversionReviewVersions: ['v1'] } };
    });
    defaultCustomResourceDefinition(crd);
    expect(crd.spec.conversion?.webhook?.clientConfig?.service?.port).toBe(443);
    expect(messages(crd)).toEqual([]);
  });
});

describe('CustomResourceDefinition validation', () => {
  it.each(['servicemonitors.monitoring.coreos.com', 'alertmanagers.monitoring.coreos.com', 'certificates.cert-manager.io'])(
    'accepts the public CRD %s',
    (name) => {
      expect(messages(loadCRD(name))).toEqual([]);
    },
  );

  it('refuses a name other than plural.group and bad names', () => {
    const crd = withWidget((c) => {
      c.metadata.name = 'gadgets.example.com';
      c.spec.names!.shortNames = ['w_1'];
      c.spec.names!.listKind = 'Widget';
      c.spec.names!.categories = ['All'];
    });
    const dns1035 =
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    expect(messages(crd)).toEqual([
      'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
      `spec.names.shortNames[0]: Invalid value: "w_1": ${dns1035}`,
      'spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same',
      `spec.names.categories[0]: Invalid value: "All": ${dns1035}`,
    ]);
  });

  it('requires a group with a dot, a scope and the names', () => {
    const crd = withWidget((c) => {
      c.metadata.name = 'widgets.example';
      c.spec.group = 'example';
      c.spec.scope = 'Global';
      c.spec.names = { plural: 'widgets' };
    });
    expect(messages(crd)).toEqual([
      'spec.group: Invalid value: "example": should be a domain with at least one dot',
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
      'spec.names.singular: Required value',
      'spec.names.kind: Required value',
      'spec.names.listKind: Required value',
    ]);
  });

  it('requires exactly one storage version and unique version names', () => {
    const crd = withWidget((c) => c.spec.versions!.push({ ...structuredClone(c.spec.versions![0]!) }));
    const out = messages(crd);
    expect(out).toEqual([
      expect.stringMatching(/^spec\.versions: Invalid value: \[.*\]: must contain unique version names$/),
      expect.stringMatching(/^spec\.versions: Invalid value: \[.*\]: must have exactly one version marked as storage version$/),
      // kube's check too: the second v1 finds its name already taken out of storedVersions.
      'status.storedVersions: Invalid value: ["v1"]: must have the storage version v1',
    ]);
  });

  it('keeps a version in spec.versions while status.storedVersions lists it', () => {
    const crd = withWidget((c) => (c.status!.storedVersions = ['v1', 'v1beta1']));
    expect(messages(crd)).toEqual([
      'status.storedVersions[1]: Invalid value: "v1beta1": missing from spec.versions; v1beta1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1beta1 and removes v1beta1 from status.storedVersions',
    ]);
  });

  it("refuses kube's own groups without the api-approved annotation, and accepts them with it", () => {
    const crd = withWidget((c) => {
      c.metadata.name = 'widgets.apps.k8s.io';
      c.spec.group = 'apps.k8s.io';
    });
    expect(messages(crd)).toEqual([
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
    ]);
    crd.metadata.annotations = { 'api-approved.kubernetes.io': 'yes' };
    expect(messages(crd)[0]).toMatch(
      /^metadata\.annotations\[api-approved\.kubernetes\.io\]: Invalid value: "yes": protected groups must have approval annotation/,
    );
    crd.metadata.annotations = { 'api-approved.kubernetes.io': 'unapproved, experimental' };
    expect(messages(crd)).toEqual([]);
  });

  it("reports a non-structural schema at spec.validation when every version shares it, as kube's internal form does", () => {
    const crd = withWidget((_c, _root, spec) => delete spec.type);
    expect(messages(crd)).toEqual(['spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields']);
  });

  it('reports it under spec.versions[i] when the versions differ', () => {
    const crd = withWidget((c) => {
      c.spec.versions!.push({ ...structuredClone(c.spec.versions![0]!), name: 'v2', storage: false });
      delete c.spec.versions![0]!.schema!.openAPIV3Schema!.properties!.spec!.type;
    });
    expect(messages(crd)).toEqual([
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
  });

  it('refuses what structural schemas forbid', () => {
    const crd = withWidget((_c, root, spec) => {
      spec.properties!.name!.uniqueItems = true;
      spec.additionalProperties = { type: 'string' };
      root.properties!.metadata = { type: 'object', properties: { labels: { type: 'object' } } };
      root.properties!.list = { type: 'array' };
      spec.anyOf = [{ type: 'object' }];
      root.anyOf = [{ properties: { other: { minLength: 1 } } }];
    });
    expect(messages(crd)).toEqual([
      'spec.validation.openAPIV3Schema.properties[list].items: Required value: must be specified',
      'spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
      'spec.validation.openAPIV3Schema.properties[other]: Required value: because it is defined in spec.validation.openAPIV3Schema.anyOf[0].properties[other]',
      'spec.validation.openAPIV3Schema.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural',
      'spec.validation.openAPIV3Schema.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive',
      'spec.validation.openAPIV3Schema.properties[spec].properties[name].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
    ]);
  });

  it('refuses x-kubernetes extensions used wrongly', () => {
    const crd = withWidget((_c, _root, spec) => {
      spec.properties!.ports = {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['port'],
        items: { type: 'object', properties: { port: { type: 'integer' } } },
      };
      spec.properties!.tags = { type: 'string', 'x-kubernetes-list-type': 'set' };
      spec.properties!.raw = { type: 'string', 'x-kubernetes-embedded-resource': true };
    });
    expect(messages(crd)).toEqual([
      'spec.validation.openAPIV3Schema.properties[spec].properties[raw].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      'spec.validation.openAPIV3Schema.properties[spec].properties[raw].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true',
      'spec.validation.openAPIV3Schema.properties[spec].properties[ports].items.properties[port].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
      'spec.validation.openAPIV3Schema.properties[spec].properties[tags].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified',
    ]);
  });

  it('refuses defaults that do not validate or are not pruned', () => {
    const crd = withWidget((_c, _root, spec) => {
      spec.properties!.replicas!.default = 'one';
      spec.properties!.name!.default = { x: 1 };
    });
    expect(messages(crd)).toEqual([
      'spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"',
      'spec.validation.openAPIV3Schema.properties[spec].properties[name].default: Invalid value: {"x":1}: must not have unknown fields',
      'spec.validation.openAPIV3Schema.properties[spec].properties[name].default: Invalid value: "object":  in body must be of type string: "object"',
    ]);
  });

  it('compiles CEL rules and checks oldSelf and optionalOldSelf', () => {
    const crd = withWidget((_c, _root, spec) => {
      spec['x-kubernetes-validations'] = [
        { rule: 'self.replicas > ' },
        { rule: 'self.replicas >= 0', optionalOldSelf: false },
        { rule: 'self.replicas', reason: 'Bad' },
      ];
      spec.properties!.tags = { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } };
    });
    expect(messages(crd)).toEqual([
      'spec.validation.openAPIV3Schema.properties[spec].properties[tags].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[tags]',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].reason: Unsupported value: "Bad": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
    ]);
    delete spec(crd)['x-kubernetes-validations']![2];
    spec(crd)['x-kubernetes-validations']!.length = 2;
    expect(messages(crd)).toContain(
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {"rule":"self.replicas > "}: compilation failed: ERROR: <input>: Unexpected token: EOF',
    );
    expect(messages(crd)).toContain(
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].optionalOldSelf: Invalid value: false: may not be set if oldSelf is not used in rule',
    );
  });

  it('checks printer columns, the scale paths and selectable fields', () => {
    const crd = withWidget((c) => {
      const v = c.spec.versions![0]!;
      v.additionalPrinterColumns = [{ name: 'Replicas', type: 'int', jsonPath: 'spec.replicas' }];
      v.subresources = { scale: { specReplicasPath: '.status.replicas', statusReplicasPath: '' } };
      v.selectableFields = [{ jsonPath: '.spec.replicas' }, { jsonPath: '.spec.nope' }, { jsonPath: '.spec' }, { jsonPath: '.spec.replicas' }];
    });
    expect(messages(crd)).toEqual([
      'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
      'spec.subresources.scale.statusReplicasPath: Required value',
      'spec.additionalPrinterColumns[0].type: Invalid value: "int": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
      'spec.selectableFields[1].jsonPath: Invalid value: ".spec.nope": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[2].jsonPath: Invalid value: ".spec": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
      'spec.selectableFields[3].jsonPath: Duplicate value: ".spec.replicas"',
    ]);
  });

  it('validates a Webhook conversion as kube does', () => {
    const crd = withWidget(
      (c) => (c.spec.conversion = { strategy: 'Webhook', webhook: { clientConfig: { url: 'http://conv.example.com/x?y' }, conversionReviewVersions: ['v2'] } }),
    );
    expect(messages(crd)).toEqual([
      'spec.conversion.webhookClientConfig.url: Invalid value: "http": \'https\' is the only allowed URL scheme; desired format: https://host[/path]',
      'spec.conversion.webhookClientConfig.url: Invalid value: "y": query parameters are not permitted in the URL',
      'spec.conversion.conversionReviewVersions: Invalid value: ["v2"]: must include at least one of v1, v1beta1',
    ]);
    crd.spec.conversion = { strategy: 'None', webhook: { clientConfig: { url: 'https://conv.example.com' }, conversionReviewVersions: ['v1'] } };
    expect(messages(crd)).toEqual([
      'spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook',
      'spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook',
    ]);
  });

  it('allows only object-level fields at the root when the status subresource is on', () => {
    const crd = withWidget((c, root) => {
      c.spec.versions![0]!.subresources = { status: {} };
      root.anyOf = [{ required: ['spec'] }];
    });
    expect(messages(crd)).toEqual([
      expect.stringMatching(
        /^spec\.validation\.openAPIV3Schema: Invalid value: \{.*\}: only \[Description Type Format Title .* XPreserveUnknownFields XValidations\] fields are allowed at the root of the schema if the status subresource is enabled$/,
      ),
    ]);
  });

  it('keeps group and plural, and once Established scope and kind, on update', () => {
    const old = widgetCRD();
    old.status!.conditions = [{ type: 'Established', status: 'True' }];
    const crd = widgetCRD();
    crd.spec.scope = 'Cluster';
    crd.spec.names!.kind = 'Gizmo';
    crd.spec.names!.singular = 'gizmo';
    crd.spec.names!.listKind = 'GizmoList';
    expect(messages(crd, old)).toEqual([
      'spec.scope: Invalid value: "Cluster": field is immutable',
      'spec.names.kind: Invalid value: "Gizmo": field is immutable',
    ]);
    crd.spec.group = 'other.example.com';
    expect(messages(crd, old)).toContain('spec.group: Invalid value: "other.example.com": field is immutable');
  });
});

function spec(crd: CustomResourceDefinition): JSONSchemaProps {
  return crd.spec.versions![0]!.schema!.openAPIV3Schema!.properties!.spec!;
}
