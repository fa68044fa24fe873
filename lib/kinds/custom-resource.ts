/**
 * The kinds a CustomResourceDefinition serves, built from its data, with lib/apiextensions' handler as the strategy (prune,
 * defaults, schema and CEL validation), kube's custom resource table
 * (NAME, then additionalPrinterColumns, or AGE when it declares none) and
 * the version's schema for OpenAPI. Pure: the API server decides when a CRD
 * is served (lib/apiserver/custom-resources.ts).
 */
import { JSONPath } from 'jsonpath-plus';
import { newCustomResourceHandler, type CustomResourceDefinition, type CustomResourceDefinitionVersion, type JSONSchemaProps } from '../apiextensions/index.js';
import type { CustomResourceColumnDefinition } from '../apiextensions/types.js';
import type { Subresource } from '../api/registry.js';
import { byVersionPriority } from '../api/version-priority.js';
import type { KObject } from '../api/object.js';
import { TypeMetaSchema } from '../api/meta/v1/object-meta.js';
import { col, type Cell, type ColumnDefinition, type Printer } from '../printers/columns.js';
import { humanDuration } from '../printers/duration.js';
import { defineKind, type Kind } from './kind.js';
import type { Strategy } from './strategy.js';

/** A version without a schema keeps every field (kube requires one in v1; this only guards a malformed store). */
const OPEN_SCHEMA: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

/** The AGE column kube serves for a version that declares no columns (serveDefaultColumnsIfEmpty). */
const DEFAULT_COLUMNS: readonly CustomResourceColumnDefinition[] = [
  {
    name: 'Age',
    type: 'date',
    jsonPath: '.metadata.creationTimestamp',
    description:
      'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  },
];

const COLUMN_TYPES = new Set<ColumnDefinition['type']>(['string', 'integer', 'number', 'boolean', 'date']);

/** One cell of a column, as kube's tableconvertor makes it: the first JSONPath result, typed by the column; null (`<none>`) when absent. */
function cell(type: string, jsonPath: string, obj: KObject, now: number): Cell {
  // kube's paths are JSONPath without the root (`.spec.replicas`); jsonpath-plus wants it (`$.spec.replicas`).
  // A CRD's author writes the path: filters run in jsonpath-plus's safe evaluator, never eval or Function.
  const results = JSONPath({ path: `$${jsonPath}`, json: obj, wrap: true, eval: 'safe' }) as unknown[];
  const value = results[0];
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      const t = typeof value === 'string' ? Date.parse(value) : NaN;
      return Number.isNaN(t) ? null : humanDuration(now - t);
    }
    default:
      // kube prints a string column with the JSONPath printer: objects and lists as JSON.
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

function printerFor(columns: readonly CustomResourceColumnDefinition[] | null | undefined): Printer {
  const declared = columns && columns.length > 0 ? columns : DEFAULT_COLUMNS;
  return {
    columns: [
      col('Name', 'string', 0, 'name'),
      ...declared.map((c) => ({
        ...col(
          c.name ?? '',
          COLUMN_TYPES.has(c.type as ColumnDefinition['type']) ? (c.type as ColumnDefinition['type']) : 'string',
          c.priority ?? 0,
          c.format ?? '',
        ),
        description: c.description ?? '',
      })),
    ],
    row: (obj, now) => [obj.metadata.name ?? '', ...declared.map((c) => cell(c.type ?? 'string', c.jsonPath ?? '', obj, now))],
  };
}

/** A custom resource's strategy: lib/apiextensions' handler in kube's order, status kept apart when /status is served. */
function strategyFor(handler: ReturnType<typeof newCustomResourceHandler>, hasStatus: boolean): Strategy {
  const plain = (obj: KObject) => obj as unknown as Record<string, unknown>;
  return {
    defaults: (obj) => handler.applyDefaults(plain(obj)),
    // With the status subresource, the main resource never writes status (customResourceStrategy.PrepareForCreate/Update).
    prepareForCreate(obj) {
      if (hasStatus) delete obj.status;
    },
    prepareForUpdate(obj, old) {
      if (!hasStatus) return;
      if (old.status === undefined) delete obj.status;
      else obj.status = structuredClone(old.status);
    },
    validateCreate: (obj) => handler.validate(plain(obj)),
    validateUpdate: (obj, old) => handler.validate(plain(obj), plain(old)),
    validateStatusUpdate: (obj, old) => handler.validateStatus(plain(obj), plain(old)),
  };
}

/** The OpenAPI v3 schema of a version's objects: its own, with the envelope kube adds and the GVK kubectl explain looks for. */
function openAPISchemaFor(schema: JSONSchemaProps, group: string, version: string, kind: string): Record<string, unknown> {
  return {
    ...schema,
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { type: 'object', description: "Standard object's metadata." },
      ...(schema.properties ?? {}),
    },
    'x-kubernetes-group-version-kind': [{ group, version, kind }],
  };
}

function kindFor(crd: CustomResourceDefinition, v: CustomResourceDefinitionVersion): Kind {
  const spec = crd.spec;
  const names = spec.names ?? {};
  const group = spec.group ?? '';
  const version = v.name ?? '';
  const kind = names.kind ?? '';
  const schema = v.schema?.openAPIV3Schema ?? OPEN_SCHEMA;
  const handler = newCustomResourceHandler({ group, version, kind, schema, scale: v.subresources?.scale ?? null });
  const subresources: Subresource[] = [];
  if (v.subresources?.status) subresources.push('status');
  if (v.subresources?.scale) subresources.push('scale');
  return defineKind({
    group,
    version,
    kind,
    resource: names.plural ?? '',
    singular: names.singular ?? kind.toLowerCase(),
    listKind: names.listKind ?? `${kind}List`,
    namespaced: spec.scope === 'Namespaced',
    // The envelope only: the schema walk (handler) checks the rest, in kube's words.
    schema: TypeMetaSchema,
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    subresources,
    garbageCollection: { dependent: true, owner: true },
    authorization: { nodes: 'none' },
    ...(v.deprecated ? { deprecation: v.deprecationWarning ?? `${group}/${version} ${kind} is deprecated` } : {}),
    strategy: strategyFor(handler, v.subresources?.status != null),
    printer: printerFor(v.additionalPrinterColumns),
    describer: 'generic',
    pruneUnknown: (obj) => handler.prune(obj),
    selectableFields: (v.selectableFields ?? []).map((f) => (f.jsonPath ?? '').replace(/^\./, '')),
    ...(v.subresources?.scale
      ? {
          scalePaths: {
            specReplicas: v.subresources.scale.specReplicasPath ?? '.spec.replicas',
            statusReplicas: v.subresources.scale.statusReplicasPath ?? '.status.replicas',
            ...(v.subresources.scale.labelSelectorPath ? { labelSelector: v.subresources.scale.labelSelectorPath } : {}),
          },
        }
      : {}),
    openAPISchema: openAPISchemaFor(schema, group, version, kind),
  });
}

/**
 * The kinds a CRD serves: one per served version, in kube's version priority
 * (the preferred version first, as discovery lists them and as a bare plural
 * resolves), each converting to the storage version with the CRD's strategy
 * (lib/apiserver/conversion.ts). None when no version is served.
 */
export function customResourceKinds(crd: CustomResourceDefinition): Kind[] {
  const versions = crd.spec.versions ?? [];
  const storageVersion = versions.find((v) => v.storage)?.name ?? '';
  const conversion: NonNullable<Kind['conversion']> =
    crd.spec.conversion?.strategy === 'Webhook'
      ? { storageVersion, strategy: 'Webhook', clientConfig: crd.spec.conversion.webhook?.clientConfig ?? {} }
      : { storageVersion, strategy: 'None' };
  const served = byVersionPriority(
    versions.filter((v) => v.served),
    (v) => v.name ?? '',
  );
  return served.map((v) => ({ ...kindFor(crd, v), conversion }));
}
