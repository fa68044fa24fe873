#!/usr/bin/env node
// Generates lib/apiserver/schema/k8s-types.generated.ts: the Go types of the
// kinds kumo serves, read from k8s.io/api and k8s.io/apimachinery sources
// (types.go). For every struct field it keeps the JSON name, the resolved
// type, the protobuf field number, the omitempty flag, the strategic merge
// patch tags (patchStrategy/patchMergeKey), the server-side apply markers
// (+listType, +listMapKey, +mapType, +structType) and the doc comment. The
// API server decodes protobuf bodies, merges strategic patches, tracks
// server-side apply ownership and serves OpenAPI descriptions from it.
// From the same types it writes kumo's zod schemas and their TypeScript
// types, lib/api/<group>/<version>/shapes.generated.ts (k8s-zod.mjs).
//
// Usage (sources at the Kubernetes release kumo targets):
//   git clone --depth 1 --branch v0.35.7 https://github.com/kubernetes/api /tmp/k8s-api
//   git clone --depth 1 --branch v0.35.7 https://github.com/kubernetes/apimachinery /tmp/k8s-apimachinery
//   node scripts/gen-k8s-types.mjs /tmp/k8s-api /tmp/k8s-apimachinery
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as prettier from 'prettier';
import { emitZod } from './k8s-zod.mjs';

const [apiDir, machineryDir, outFile = 'lib/apiserver/schema/k8s-types.generated.ts'] = process.argv.slice(2);
if (!apiDir || !machineryDir) {
  console.error('usage: gen-k8s-types.mjs <k8s.io/api dir> <k8s.io/apimachinery dir> [out.ts]');
  process.exit(2);
}

/** Package id → Go source files. */
const packages = {
  'core/v1': [join(apiDir, 'core/v1/types.go')],
  'apps/v1': [join(apiDir, 'apps/v1/types.go')],
  'batch/v1': [join(apiDir, 'batch/v1/types.go')],
  'coordination/v1': [join(apiDir, 'coordination/v1/types.go')],
  'policy/v1': [join(apiDir, 'policy/v1/types.go')],
  'autoscaling/v1': [join(apiDir, 'autoscaling/v1/types.go')],
  'autoscaling/v2': [join(apiDir, 'autoscaling/v2/types.go')],
  'discovery/v1': [join(apiDir, 'discovery/v1/types.go')],
  'scheduling/v1': [join(apiDir, 'scheduling/v1/types.go')],
  'rbac/v1': [join(apiDir, 'rbac/v1/types.go')],
  'authentication/v1': [join(apiDir, 'authentication/v1/types.go')],
  'authorization/v1': [join(apiDir, 'authorization/v1/types.go')],
  'admissionregistration/v1': [join(apiDir, 'admissionregistration/v1/types.go')],
  'admission/v1': [join(apiDir, 'admission/v1/types.go')],
  'networking/v1': [join(apiDir, 'networking/v1/types.go')],
  'storage/v1': [join(apiDir, 'storage/v1/types.go')],
  'meta/v1': [join(machineryDir, 'pkg/apis/meta/v1/types.go'), join(machineryDir, 'pkg/apis/meta/v1/group_version.go')],
};

/** Go import path → package id (or a well-known leaf type family). */
const importIds = {
  'k8s.io/api/core/v1': 'core/v1',
  'k8s.io/api/apps/v1': 'apps/v1',
  'k8s.io/api/batch/v1': 'batch/v1',
  'k8s.io/api/coordination/v1': 'coordination/v1',
  'k8s.io/api/policy/v1': 'policy/v1',
  'k8s.io/api/autoscaling/v1': 'autoscaling/v1',
  'k8s.io/api/autoscaling/v2': 'autoscaling/v2',
  'k8s.io/api/discovery/v1': 'discovery/v1',
  'k8s.io/api/scheduling/v1': 'scheduling/v1',
  'k8s.io/api/rbac/v1': 'rbac/v1',
  'k8s.io/api/authentication/v1': 'authentication/v1',
  'k8s.io/api/authorization/v1': 'authorization/v1',
  'k8s.io/api/admissionregistration/v1': 'admissionregistration/v1',
  'k8s.io/api/admission/v1': 'admission/v1',
  'k8s.io/api/networking/v1': 'networking/v1',
  'k8s.io/api/storage/v1': 'storage/v1',
  'k8s.io/apimachinery/pkg/apis/meta/v1': 'meta/v1',
  'k8s.io/apimachinery/pkg/api/resource': 'resource',
  'k8s.io/apimachinery/pkg/util/intstr': 'intstr',
  'k8s.io/apimachinery/pkg/types': 'types',
  'k8s.io/apimachinery/pkg/runtime': 'runtime',
};

/** Types with their own wire and JSON forms (see lib/apiserver/schema/types.ts). */
const special = {
  'resource.Quantity': 'Quantity',
  'intstr.IntOrString': 'IntOrString',
  'meta/v1.Time': 'Time',
  'meta/v1.MicroTime': 'MicroTime',
  'meta/v1.Duration': 'Duration',
  'meta/v1.FieldsV1': 'FieldsV1',
  'runtime.RawExtension': 'RawExtension',
  'types.UID': 'string',
  'types.NodeName': 'string',
  'time.Duration': 'int64',
};

const SCALARS = {
  string: 'string',
  bool: 'bool',
  int32: 'int32',
  int64: 'int64',
  int: 'int64',
  uint32: 'int64',
  uint64: 'int64',
  float64: 'double',
  float32: 'double',
  byte: 'int32',
};

/** The kinds kumo serves or reads in request bodies; everything they reach is emitted. */
const roots = [
  'core/v1.Pod',
  'core/v1.Node',
  'core/v1.Namespace',
  'core/v1.Event',
  'core/v1.ConfigMap',
  'core/v1.Secret',
  'core/v1.Service',
  'core/v1.Binding',
  'core/v1.PodTemplate',
  'apps/v1.Deployment',
  'apps/v1.ReplicaSet',
  'batch/v1.Job',
  'coordination/v1.Lease',
  'policy/v1.Eviction',
  'autoscaling/v1.Scale',
  'discovery/v1.EndpointSlice',
  'meta/v1.DeleteOptions',
  'core/v1.Endpoints',
  'core/v1.PersistentVolumeClaim',
  'core/v1.PersistentVolume',
  'scheduling/v1.PriorityClass',
  'apps/v1.StatefulSet',
  'apps/v1.DaemonSet',
  'apps/v1.ControllerRevision',
  'batch/v1.CronJob',
  'core/v1.ReplicationController',
  'policy/v1.PodDisruptionBudget',
  'autoscaling/v1.HorizontalPodAutoscaler',
  'autoscaling/v2.HorizontalPodAutoscaler',
  'core/v1.ServiceAccount',
  'core/v1.ResourceQuota',
  'core/v1.LimitRange',
  'rbac/v1.Role',
  'rbac/v1.ClusterRole',
  'rbac/v1.RoleBinding',
  'rbac/v1.ClusterRoleBinding',
  'authentication/v1.TokenRequest',
  'authentication/v1.TokenReview',
  'authentication/v1.SelfSubjectReview',
  'authorization/v1.SubjectAccessReview',
  'authorization/v1.SelfSubjectAccessReview',
  'authorization/v1.LocalSubjectAccessReview',
  'authorization/v1.SelfSubjectRulesReview',
  'admissionregistration/v1.ValidatingWebhookConfiguration',
  'admissionregistration/v1.MutatingWebhookConfiguration',
  'admissionregistration/v1.ValidatingAdmissionPolicy',
  'admissionregistration/v1.ValidatingAdmissionPolicyBinding',
  'admission/v1.AdmissionReview',
  'networking/v1.Ingress',
  'networking/v1.IngressClass',
  'networking/v1.NetworkPolicy',
  'storage/v1.StorageClass',
  'storage/v1.CSIDriver',
  'storage/v1.VolumeAttachment',
];

function parseComments(lines) {
  const markers = {};
  const doc = [];
  for (const raw of lines) {
    const l = raw.replace(/^\s*\/\/ ?/, '');
    const m = /^\+([\w.:/()-]+)(?:=(.*))?$/.exec(l.trim());
    if (m) {
      const [, key, value = 'true'] = m;
      (markers[key] ??= []).push(value);
      continue;
    }
    doc.push(l);
  }
  // Kubernetes' openapi-gen: lines of a paragraph joined with spaces, paragraphs with a blank line.
  const paras = [];
  let cur = [];
  for (const l of doc) {
    // openapi-gen drops everything after a `---` line (notes for API authors).
    if (l.trim().startsWith('---')) break;
    if (l.trim() === '') {
      if (cur.length) paras.push(cur.join(' '));
      cur = [];
    } else if (!/^TODO/.test(l.trim())) cur.push(l.trim());
  }
  if (cur.length) paras.push(cur.join(' '));
  return { markers, doc: paras.join('\n\n') };
}

function parseTags(tag) {
  const out = {};
  for (const m of tag.matchAll(/(\w+):"([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

/** Parses one Go file: imports, named types and structs. */
function parseGo(text, pkg) {
  const lines = text.split('\n');
  const imports = {};
  const decls = {};
  let comments = [];
  let i = 0;
  const readImport = (line) => {
    const m = /^\s*(?:(\w+)\s+)?"([^"]+)"/.exec(line);
    if (!m) return;
    const path = m[2];
    const alias = m[1] ?? path.split('/').pop();
    imports[alias] = importIds[path] ?? path;
  };
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (/^import \($/.test(line)) {
      for (i++; i < lines.length && lines[i] !== ')'; i++) readImport(lines[i]);
      continue;
    }
    if (/^import "/.test(line)) {
      readImport(line.slice(7));
      continue;
    }
    if (/^\s*\/\//.test(line)) {
      comments.push(line);
      continue;
    }
    const t = /^type (\w+) (.*)$/.exec(line);
    if (t) {
      const [, name, rest] = t;
      const { markers, doc } = parseComments(comments);
      if (rest.trim() === 'struct {') {
        const fields = [];
        let fc = [];
        for (i++; i < lines.length && lines[i] !== '}'; i++) {
          const fl = lines[i];
          if (/^\s*\/\*/.test(fl)) {
            while (i < lines.length && !lines[i].includes('*/')) i++;
            continue;
          }
          if (/^\s*\/\//.test(fl)) {
            fc.push(fl);
            continue;
          }
          if (fl.trim() === '') {
            fc = [];
            continue;
          }
          const fm = /^\s*(?:(\w+)\s+)?([^\s`]+)\s*(?:`([^`]*)`)?/.exec(fl);
          if (!fm) throw new Error(`${pkg}.${name}: cannot parse field line: ${fl}`);
          const [, fieldName, goType, tag = ''] = fm;
          const parsed = parseComments(fc);
          fields.push({ goName: fieldName ?? goType.replace(/^\*/, '').split('.').pop(), goType, tags: parseTags(tag), embedded: !fieldName, ...parsed });
          fc = [];
        }
        decls[name] = { kind: 'struct', fields, markers, doc };
      } else {
        decls[name] = { kind: 'named', underlying: rest.replace(/\s*\/\/.*$/, '').trim(), markers, doc };
      }
      comments = [];
      continue;
    }
    if (line.trim() === '' || !/^\s*\/\//.test(line)) comments = line.trim() === '' ? comments : [];
    if (line.trim() === '') {
      // A blank line ends a doc block, but type markers above it (+genclient ...) do not matter here.
      comments = [];
    }
  }
  return { imports, decls };
}

const parsed = {};
for (const [pkg, files] of Object.entries(packages)) {
  const merged = { imports: {}, decls: {} };
  for (const f of files) {
    const p = parseGo(readFileSync(f, 'utf8'), pkg);
    Object.assign(merged.imports, p.imports);
    Object.assign(merged.decls, p.decls);
  }
  parsed[pkg] = merged;
}

const out = {};
/** The structs that embed TypeMeta: objects with an apiVersion and a kind of their own. */
const kinds = new Set();
const queue = [...roots];

/** Resolves a Go type expression in `pkg` to kumo's type string (see schema/types.ts). */
function resolve(goType, pkg) {
  if (goType.startsWith('*')) return resolve(goType.slice(1), pkg);
  if (goType === '[]byte') return 'bytes';
  if (goType.startsWith('[]')) return `[]${resolve(goType.slice(2), pkg)}`;
  const mm = /^map\[([^\]]+)\](.+)$/.exec(goType);
  if (mm) return `map[]${resolve(mm[2], pkg)}`;
  if (SCALARS[goType]) return SCALARS[goType];
  let id;
  let name;
  if (goType.includes('.')) {
    const [alias, n] = goType.split('.');
    id = alias === 'time' ? 'time' : parsed[pkg].imports[alias];
    if (!id) throw new Error(`unknown import alias ${alias} in ${pkg}`);
    name = n;
  } else {
    id = pkg;
    name = goType;
  }
  const full = `${id}.${name}`;
  if (special[full]) return special[full];
  const decl = parsed[id]?.decls[name];
  if (!decl) throw new Error(`unknown type ${full}`);
  if (decl.kind === 'named') return resolve(decl.underlying, id);
  if (!out[full] && !queue.includes(full)) queue.push(full);
  return full;
}

while (queue.length > 0) {
  const full = queue.shift();
  if (out[full]) continue;
  const dot = full.lastIndexOf('.');
  const pkg = full.slice(0, dot);
  const name = full.slice(dot + 1);
  const decl = parsed[pkg]?.decls[name];
  if (!decl || decl.kind !== 'struct') throw new Error(`not a struct: ${full}`);
  const entry = { doc: decl.doc, fields: [] };
  if (decl.markers.structType) entry.structType = decl.markers.structType[0];
  out[full] = entry;
  for (const f of decl.fields) {
    const json = f.tags.json ?? '';
    const [jsonName, ...opts] = json.split(',');
    if (json === '-' || f.tags.protobuf === '-') continue;
    const inline = opts.includes('inline');
    // TypeMeta is inline without a protobuf field: apiVersion/kind travel in the envelope.
    if (inline && f.goType.endsWith('TypeMeta')) {
      kinds.add(full);
      continue;
    }
    const proto = f.tags.protobuf ? Number(f.tags.protobuf.split(',')[1]) : undefined;
    const field = {
      name: inline ? '' : jsonName || f.goName,
      type: `${f.goType.startsWith('*') ? '*' : ''}${resolve(f.goType, pkg)}`,
    };
    if (proto !== undefined) field.proto = proto;
    if (opts.includes('omitempty')) field.omitempty = true;
    if (inline) field.inline = true;
    if (f.tags.patchStrategy) field.patchStrategy = f.tags.patchStrategy;
    if (f.tags.patchMergeKey) field.patchMergeKey = f.tags.patchMergeKey;
    if (f.markers.listType) field.listType = f.markers.listType[0];
    if (f.markers.listMapKey) field.listMapKeys = f.markers.listMapKey;
    if (f.markers.mapType) field.mapType = f.markers.mapType[0];
    if (f.markers.structType) field.structType = f.markers.structType[0];
    if (f.markers.default) {
      try {
        field.default = JSON.parse(f.markers.default[0]);
      } catch {
        field.default = f.markers.default[0];
      }
    }
    if (f.markers.optional === undefined && f.markers.required !== undefined) field.required = true;
    if (f.doc) field.doc = f.doc;
    entry.fields.push(field);
  }
}

const header = `// Code generated by scripts/gen-k8s-types.mjs from k8s.io/api and k8s.io/apimachinery v0.35.7. DO NOT EDIT.
// Regenerate: see the usage note at the top of that script.
import type { GoStruct } from './go-struct.js';

`;
const sorted = Object.fromEntries(
  Object.keys(out)
    .sort()
    .map((k) => [k, out[k]]),
);
writeFileSync(outFile, `${header}export const K8S_TYPES: Readonly<Record<string, GoStruct>> = ${JSON.stringify(sorted, null, 1)};\n`);
console.error(`wrote ${Object.keys(out).length} types to ${outFile}`);
const shapes = emitZod(
  sorted,
  kinds,
  `// Code generated by scripts/gen-k8s-types.mjs from k8s.io/api and k8s.io/apimachinery v0.35.7 and scripts/k8s-zod-rules.mjs. DO NOT EDIT.\n`,
);
// Formatted as the rest of lib/ is, so that `npm run lint` checks them like hand-written code.
for (const [file, text] of Object.entries(shapes)) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file }));
}
console.error(`wrote ${Object.keys(shapes).length} schema files: ${Object.keys(shapes).join(', ')}`);
