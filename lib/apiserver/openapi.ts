/**
 * OpenAPI v3: `/openapi/v3` lists one document per group/version, each
 * with the paths of its resources and the schemas of its kinds.
 *
 * kubectl reads them twice: `apply`/`create -f` look for a `patch`
 * operation carrying `x-kubernetes-group-version-kind` and a
 * `fieldValidation` parameter, then leave validation to the server; and
 * `kubectl explain` finds the kind's schema by its GVK and walks
 * `properties`, `$ref`s, `allOf`, `items` and `additionalProperties`,
 * printing descriptions and type names (the last segment of a `$ref`).
 *
 * Schemas are the Kubernetes Go types (schema/k8s-types.generated.ts: the
 * fields the server accepts under `fieldValidation=Strict`, with their
 * documentation and list/patch markers). A field is `required` where the
 * Go types mark it `+required` or kumo's schemas (generated from the same
 * types, lib/api/<group>/<version>/shapes.generated.ts) insist on it, so a
 * struct has the same `required` in every document, whichever path reaches
 * it first. Documents are built once per process.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from '../api/registry.js';
import type { GoField } from './schema/go-struct.js';
import { goStruct, jsonFields, parseType, structForKind, type TypeRef } from './schema/types.js';

type Schema = Record<string, unknown>;

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Kubernetes' OpenAPI names: io.k8s.api.core.v1.Pod, io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta. */
function componentName(struct: string): string {
  const [pkg, name] = [struct.slice(0, struct.lastIndexOf('.')), struct.slice(struct.lastIndexOf('.') + 1)];
  const [group, version] = pkg.split('/');
  return group === 'meta' ? `io.k8s.apimachinery.pkg.apis.meta.${version}.${name}` : `io.k8s.api.${group}.${version}.${name}`;
}

/** A custom resource's schema name, as kube-apiserver's CRD OpenAPI builder names it: the group reversed, the version, the kind (com.example.v1.Widget). */
function customComponentName(t: ResourceType): string {
  return [...t.group.split('.').reverse(), t.version, t.kind].join('.');
}

const SPECIAL: Record<string, { name: string; schema: Schema }> = {
  Quantity: {
    name: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
    schema: {
      description:
        'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the "" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | <digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits> <sign>            ::= "+" | "-" <signedNumber>    ::= <number> | <sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | "" | k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn\'t choose the capitalization.)\n\n<decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber> ```',
      oneOf: [{ type: 'string' }, { type: 'number' }],
    },
  },
  IntOrString: {
    name: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    schema: {
      description:
        'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    },
  },
  Time: {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
    schema: {
      description:
        'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.',
      format: 'date-time',
      type: 'string',
    },
  },
  MicroTime: {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
    schema: { description: 'MicroTime is version of Time with microsecond level precision.', format: 'date-time', type: 'string' },
  },
  Duration: {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.Duration',
    schema: { description: 'Duration is a wrapper around time.Duration which supports correct marshaling to YAML and JSON.', type: 'string' },
  },
  FieldsV1: {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
    schema: { description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.', type: 'object' },
  },
  RawExtension: {
    name: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
    schema: { description: 'RawExtension is used to hold extensions in external versions.', type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

const TYPE_META_DOCS = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

function zdef(s: z.ZodType): ZodDef {
  return (s as unknown as { _zod: { def: ZodDef } })._zod.def;
}

/** The schema under wrappers (optional, nullable, default, lazy, pipe), and whether it may be left out. */
function unwrap(s: z.ZodType | undefined): { core: z.ZodType | undefined; optional: boolean } {
  let optional = false;
  let cur = s;
  while (cur) {
    const d = zdef(cur);
    if (d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'catch') optional = true;
    if (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType;
    else if (d.type === 'lazy' && d.getter) cur = d.getter();
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return { core: cur, optional };
}

function zodShape(s: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  const { core } = unwrap(s);
  return core && zdef(core).type === 'object' ? zdef(core).shape : undefined;
}

function zodElement(s: z.ZodType | undefined): z.ZodType | undefined {
  const { core } = unwrap(s);
  if (!core) return undefined;
  const d = zdef(core);
  return d.type === 'array' ? d.element : d.type === 'record' ? d.valueType : undefined;
}

/** Builds one group/version document's components as types are reached. */
class Components {
  readonly schemas: Record<string, Schema> = {};

  ref(name: string): Schema {
    return { $ref: `#/components/schemas/${name}` };
  }

  /** The schema of a value of `ref`; `zod` is kumo's schema at the same place, if any. */
  typeSchema(ref: TypeRef, zod: z.ZodType | undefined): Schema {
    switch (ref.kind) {
      case 'scalar':
        switch (ref.scalar) {
          case 'string':
            return { type: 'string' };
          case 'bool':
            return { type: 'boolean' };
          case 'int32':
            return { type: 'integer', format: 'int32' };
          case 'int64':
            return { type: 'integer', format: 'int64' };
          case 'double':
            return { type: 'number', format: 'double' };
          case 'bytes':
            return { type: 'string', format: 'byte' };
        }
        return {};
      case 'special': {
        const sp = SPECIAL[ref.special]!;
        this.schemas[sp.name] ??= sp.schema;
        return this.ref(sp.name);
      }
      case 'struct':
        return this.ref(this.struct(ref.name, zod));
      case 'list':
        return { type: 'array', items: this.typeSchema(ref.elem, zodElement(zod)) };
      case 'map':
        return { type: 'object', additionalProperties: this.typeSchema(ref.elem, zodElement(zod)) };
    }
  }

  fieldSchema(f: GoField, zod: z.ZodType | undefined): Schema {
    const base = this.typeSchema(parseType(f.type), zod);
    const extra: Schema = {};
    if (f.doc) extra.description = f.doc;
    if (f.default !== undefined) extra.default = f.default;
    if (f.listType) extra['x-kubernetes-list-type'] = f.listType;
    if (f.listMapKeys) extra['x-kubernetes-list-map-keys'] = f.listMapKeys;
    if (f.mapType) extra['x-kubernetes-map-type'] = f.mapType;
    if (f.patchStrategy) extra['x-kubernetes-patch-strategy'] = f.patchStrategy;
    if (f.patchMergeKey) extra['x-kubernetes-patch-merge-key'] = f.patchMergeKey;
    if (Object.keys(extra).length === 0) return base;
    // As Kubernetes' publisher: a reference with its own description goes through allOf.
    return '$ref' in base ? { allOf: [base], ...extra } : { ...base, ...extra };
  }

  /** Registers a struct's component (once) and returns its name. */
  struct(name: string, zod: z.ZodType | undefined, gvk?: { group: string; version: string; kind: string }): string {
    const cname = componentName(name);
    if (this.schemas[cname]) return cname;
    const schema: Schema = { description: goStruct(name)?.doc ?? '', type: 'object' };
    this.schemas[cname] = schema;
    const shape = zodShape(zod);
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    if (gvk) {
      properties.apiVersion = { description: TYPE_META_DOCS.apiVersion, type: 'string' };
      properties.kind = { description: TYPE_META_DOCS.kind, type: 'string' };
    }
    for (const [json, f] of jsonFields(name)) {
      properties[json] = this.fieldSchema(f, shape?.[json]);
      // The envelope (apiVersion, kind, metadata) is never required in Kubernetes' schemas, whatever kumo's zod says.
      if (gvk && json === 'metadata') continue;
      if (f.required || (shape?.[json] !== undefined && !unwrap(shape[json]).optional)) required.push(json);
    }
    schema.properties = properties;
    if (required.length > 0) schema.required = required.sort();
    if (goStruct(name)?.structType === 'atomic') schema['x-kubernetes-map-type'] = 'atomic';
    if (gvk) schema['x-kubernetes-group-version-kind'] = [gvk];
    return cname;
  }
}

/** The patch types a `patch` operation accepts; kubectl computes client-side apply patches from the schema when strategic merge is listed. */
const PATCH_CONTENT_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

function operation(t: ResourceType, action: string, opts: { body?: boolean; list?: boolean } = {}): Schema {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const root = structForKind(apiVersionOf(t), t.kind);
  const schema = root
    ? { $ref: `#/components/schemas/${componentName(root)}` }
    : t.openAPISchema
      ? { $ref: `#/components/schemas/${customComponentName(t)}` }
      : { type: 'object' };
  const parameters: Schema[] = [
    {
      name: 'dryRun',
      in: 'query',
      description: 'When present, indicates that modifications should not be persisted.',
      schema: { type: 'string', uniqueItems: true },
    },
    {
      name: 'fieldManager',
      in: 'query',
      description: 'fieldManager is a name associated with the actor or entity that is making these changes.',
      schema: { type: 'string', uniqueItems: true },
    },
    {
      name: 'fieldValidation',
      in: 'query',
      description:
        'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.',
      schema: { type: 'string', uniqueItems: true },
    },
  ];
  return {
    operationId: `${action}${t.kind}`,
    tags: [t.group ? `${t.group.split('.')[0]}_${t.version}` : `core_${t.version}`],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...(opts.body ? { parameters } : {}),
    ...(opts.body
      ? { requestBody: { content: Object.fromEntries((action === 'patch' ? PATCH_CONTENT_TYPES : ['*/*']).map((c) => [c, { schema }])), required: true } }
      : {}),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: opts.list ? { type: 'object' } : schema } } } },
  };
}

function buildDocument(path: string, types: readonly ResourceType[]): Schema {
  const components = new Components();
  const paths: Record<string, Schema> = {};
  for (const t of types) {
    const root = structForKind(apiVersionOf(t), t.kind);
    if (root) components.struct(root, t.schema, { group: t.group, version: t.version, kind: t.kind });
    else if (t.openAPISchema) components.schemas[customComponentName(t)] = t.openAPISchema;
    const collection = t.namespaced ? `/${path}/namespaces/{namespace}/${t.resource}` : `/${path}/${t.resource}`;
    paths[collection] = { get: operation(t, 'list', { list: true }), post: operation(t, 'post', { body: true }) };
    paths[`${collection}/{name}`] = {
      get: operation(t, 'get'),
      put: operation(t, 'put', { body: true }),
      patch: operation(t, 'patch', { body: true }),
      delete: operation(t, 'delete'),
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.35.0-kumo' }, paths, components: { schemas: components.schemas } };
}

type Documents = Map<string, { doc: Schema; hash: string }>;

/** Documents per registry, rebuilt when the registry has grown since (its revision). */
const built = new WeakMap<ResourceRegistry, { revision: number; docs: Documents }>();

function documents(kinds: ResourceRegistry): Documents {
  const cached = built.get(kinds);
  if (cached?.revision === kinds.revision) return cached.docs;
  const byPath = new Map<string, ResourceType[]>();
  for (const t of kinds.all()) {
    const p = gvPath(t.group, t.version);
    byPath.set(p, [...(byPath.get(p) ?? []), t]);
  }
  const docs: Documents = new Map();
  for (const [p, types] of byPath) {
    const doc = buildDocument(p, types);
    docs.set(p, { doc, hash: createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase().slice(0, 128) });
  }
  built.set(kinds, { revision: kinds.revision, docs });
  return docs;
}

export const OPENAPI_V2_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/**
 * /openapi/v2 is an empty (protobuf) document. kubectl reads v3 for
 * everything but the client-side validation of `kind: List` manifests, which
 * needs some v2 document and skips kinds it does not define (the server
 * validates each item strictly anyway); a 404 there fails the command.
 */
export const OPENAPI_V2_DOCUMENT = '';

export function openApiIndex(kinds: ResourceRegistry) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [p, { hash }] of documents(kinds)) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  return { paths };
}

/** The document for `api/v1` or `apis/<group>/<version>`, or undefined. */
export function openApiDocument(kinds: ResourceRegistry, path: string): unknown {
  return documents(kinds).get(path)?.doc;
}
