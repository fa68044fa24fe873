/**
 * Reading `-f` sources the way kubectl's resource builder does: files, `-`
 * for standard input, directories (their .json/.yaml/.yml files in name
 * order, subdirectories only with -R), multi-document YAML, JSON, and `List`
 * kinds flattened into their items. Every document is parsed before anything
 * is sent, so a file that does not parse changes nothing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import { isPlainObject } from '../util/json.js';
import { CliError } from './errors.js';
import { resourceForKind } from './resources.js';

export interface Manifest {
  /** The file the object came from (`STDIN` for `-`), as kubectl names it in messages. */
  source: string;
  object: KObject;
}

/** A manifest and the resource it maps to; `error` says why it maps to none. */
export interface MappedManifest extends Manifest {
  rt?: ResourceType;
  error?: CliError;
}

const EXTENSIONS = ['.json', '.yaml', '.yml'];

function filesOf(path: string, recursive: boolean, top: boolean): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CliError(`the path "${path}" does not exist`);
  }
  if (!st.isDirectory()) return top || EXTENSIONS.some((e) => path.endsWith(e)) ? [path] : [];
  if (!top && !recursive) return [];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => filesOf(join(path, entry), recursive, false));
}

/** The documents of one YAML or JSON text; empty documents are skipped. */
export function parseManifestText(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  // YAML 1.1 as go-yaml reads manifests (`on`/`yes` are booleans), but timestamps stay strings as kubectl keeps them.
  const docs = parseAllDocuments(text, {
    version: '1.1',
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const line = e.linePos?.[0]?.line;
      const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new CliError(`error parsing ${source}: error converting YAML to JSON: yaml: ${line ? `line ${line}: ` : ''}${what}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(...objectsOf(value, source));
  }
  return out;
}

function objectsOf(value: unknown, source: string): Manifest[] {
  if (!isPlainObject(value)) {
    throw new CliError(
      `unable to decode "${source}": json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type map[string]interface {}`,
    );
  }
  const kind = value.kind;
  if (typeof kind !== 'string' || kind === '') {
    throw new CliError(`unable to decode "${source}": Object 'Kind' is missing in '${JSON.stringify(value)}'`);
  }
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') {
    throw new CliError(`unable to decode "${source}": Object 'apiVersion' is missing in '${JSON.stringify(value)}'`);
  }
  // v1 List and every *List kind hold items to flatten, as the builder's Flatten() does.
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value.items))) {
    return ((value.items as unknown[]) ?? []).flatMap((item) => objectsOf(item, source));
  }
  if (!isPlainObject(value.metadata)) value.metadata = {};
  return [{ source, object: value as KObject }];
}

/** Reads every `-f` source; `-` reads standard input once. */
export async function readManifests(paths: readonly string[], opts: { recursive: boolean; stdin: () => Promise<string> }): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(...parseManifestText(await opts.stdin(), 'STDIN'));
      continue;
    }
    if (/^https?:\/\//.test(path)) throw new CliError(`reading manifests from URLs is not supported: ${path}`);
    for (const file of filesOf(path, opts.recursive, true)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(`error reading ${file}: ${(err as Error).message}`);
      }
      out.push(...parseManifestText(text, file));
    }
  }
  return out;
}

/** Maps each manifest to its resource; unknown kinds carry kubectl's mapping error instead. */
export function mapManifests(manifests: readonly Manifest[]): MappedManifest[] {
  return manifests.map((m) => {
    const rt = resourceForKind(m.object.apiVersion, m.object.kind);
    if (rt) return { ...m, rt };
    const ns = m.object.metadata.namespace ?? '';
    return {
      ...m,
      error: new CliError(
        `resource mapping not found for name: "${m.object.metadata.name ?? ''}" namespace: "${ns}" from "${m.source}": no matches for kind "${m.object.kind}" in version "${m.object.apiVersion}"`,
      ),
    };
  });
}
