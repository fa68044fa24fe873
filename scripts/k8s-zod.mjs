// Emits the zod schemas (and their z.infer types) of the Go types that
// gen-k8s-types.mjs reads, one lib/api/<group>/<version>/shapes.generated.ts
// per Go package: the field names and JSON types come from k8s.io/api, so
// kumo's schemas cannot drift from the table that protobuf, server-side
// apply, OpenAPI and unknown-field detection read. What Go's decoder does
// not check and kumo's code relies on (a container has a name, a condition
// a type) comes from k8s-zod-rules.mjs.
import { NOT_NULL, REQUIRED } from './k8s-zod-rules.mjs';

/** Go package id (`core/v1`) → the namespace the other packages import it as (`corev1`, as Go code names it). */
const alias = (pkg) => pkg.replace('/', '');

/**
 * The zod expression of a generated type string (see lib/apiserver/schema/types.ts for the grammar).
 * A kind used as a field (a StatefulSet's volumeClaimTemplates, an Eviction's deleteOptions) may leave
 * out apiVersion and kind: Go decodes an embedded object's TypeMeta as omitempty fields, and only a
 * request's own object gets them from its endpoint.
 */
function zodOf(type, pkg, uses, kinds) {
  const t = type.startsWith('*') ? type.slice(1) : type;
  if (t.startsWith('[]')) return `z.array(${zodOf(t.slice(2), pkg, uses, kinds)})`;
  if (t.startsWith('map[]')) return `z.record(z.string(), ${zodOf(t.slice(5), pkg, uses, kinds)})`;
  switch (t) {
    case 'string':
    case 'bytes':
    case 'Time':
    case 'MicroTime':
    case 'Duration':
      return 'z.string()';
    case 'bool':
      return 'z.boolean()';
    case 'int32':
      return 'Int32';
    case 'int64':
      return 'Int64';
    case 'double':
      return 'z.number()';
    case 'Quantity':
      return 'QuantitySchema';
    case 'IntOrString':
      return 'IntOrStringSchema';
    case 'FieldsV1':
      return 'z.record(z.string(), z.unknown())';
    case 'RawExtension':
      return 'z.unknown()';
  }
  const dot = t.lastIndexOf('.');
  const [from, name] = [t.slice(0, dot), t.slice(dot + 1)];
  const embedded = kinds.has(t) ? '.partial({ apiVersion: true, kind: true })' : '';
  if (from === pkg) {
    uses.local.add(t);
    return `${name}Schema${embedded}`;
  }
  uses.packages.add(from);
  return `${alias(from)}.${name}Schema${embedded}`;
}

/** A struct's fields as JSON sees them: inline (embedded) structs' fields in place. */
function jsonFields(types, name) {
  return types[name].fields.flatMap((f) => (f.inline ? jsonFields(types, f.type.replace(/^\*/, '')) : [f]));
}

/**
 * Whether a field may be left out or sent as null (Go's decoder takes both
 * for every field): a kind's metadata is required and its spec and status
 * are not null, as for every kind kumo served before the schemas were
 * derived; other fields as the rules say.
 */
function wrap(expr, struct, field, isKind) {
  if (REQUIRED[struct]?.includes(field) || (isKind && field === 'metadata')) return expr;
  if (NOT_NULL[struct]?.includes(field) || (isKind && (field === 'spec' || field === 'status'))) return `${expr}.optional()`;
  return `opt(${expr})`;
}

/**
 * The generated files: path → text. `types` is the sorted table, `kinds`
 * the structs that embed TypeMeta (they get apiVersion and kind).
 */
export function emitZod(types, kinds, header) {
  const byPkg = new Map();
  for (const name of Object.keys(types)) {
    const pkg = name.slice(0, name.lastIndexOf('.'));
    if (!byPkg.has(pkg)) byPkg.set(pkg, []);
    byPkg.get(pkg).push(name);
  }
  for (const [struct, fields] of [...Object.entries(REQUIRED), ...Object.entries(NOT_NULL)]) {
    const known = types[struct] && jsonFields(types, struct).map((f) => f.name);
    for (const f of fields) if (!known?.includes(f)) throw new Error(`k8s-zod-rules.mjs names ${struct}.${f}, which the Go types do not have`);
  }
  const files = {};
  for (const [pkg, names] of byPkg) {
    const uses = { packages: new Set(), local: new Set() };
    const bodies = new Map();
    const deps = new Map();
    for (const name of names) {
      uses.local = new Set();
      const short = name.slice(name.lastIndexOf('.') + 1);
      const isKind = kinds.has(name);
      const lines = isKind ? ['  apiVersion: z.string(),', '  kind: z.string(),'] : [];
      for (const f of jsonFields(types, name)) lines.push(`  ${JSON.stringify(f.name)}: ${wrap(zodOf(f.type, pkg, uses, kinds), name, f.name, isKind)},`);
      const doc = types[name].doc.split('\n')[0];
      bodies.set(
        name,
        `${doc ? `/** ${doc.replaceAll('*/', '* /')} */\n` : ''}export const ${short}Schema = z.looseObject({${lines.length ? `\n${lines.join('\n')}\n` : ''}});\nexport type ${short} = z.infer<typeof ${short}Schema>;\n`,
      );
      deps.set(
        name,
        [...uses.local].filter((d) => d !== name),
      );
    }
    // A schema is declared after the ones it uses (the Go types have no cycles among them; one would be an error here).
    const order = [];
    const state = new Map();
    const visit = (n, path) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') throw new Error(`recursive Go types: ${[...path, n].join(' → ')}`);
      state.set(n, 'open');
      for (const d of deps.get(n)) visit(d, [...path, n]);
      state.set(n, 'done');
      order.push(n);
    };
    for (const n of names) visit(n, []);
    const text = [...order].map((n) => bodies.get(n)).join('\n');
    const common = ['Int32', 'Int64', 'IntOrStringSchema', 'QuantitySchema', 'opt'].filter((s) => new RegExp(`\\b${s}\\b`).test(text));
    const commonPath = pkg === 'meta/v1' ? './common.js' : '../../meta/v1/common.js';
    const imports = [
      "import { z } from 'zod';",
      `import { ${common.join(', ')} } from '${commonPath}';`,
      ...[...uses.packages].sort().map((p) => `import * as ${alias(p)} from '../../${p}/shapes.generated.js';`),
    ];
    files[`lib/api/${pkg}/shapes.generated.ts`] = `${header}${imports.join('\n')}\n\n${text}`;
  }
  return files;
}
