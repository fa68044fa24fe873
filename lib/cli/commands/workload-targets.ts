/**
 * The objects `kumo scale` and `kumo rollout` act on, found the way
 * kubectl's resource builder finds them with `Latest()`: `TYPE NAME...`,
 * `TYPE/NAME...`, `-f` manifests (each read back from the server), or a
 * type with `-l`/`--all` (a list). An object that cannot be read is an
 * error reported after the others were handled (ContinueOnError).
 */
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { CliError } from '../errors.js';
import { listObjects, withTypeMeta } from '../fetch.js';
import { mapManifests, readManifests } from '../manifests.js';
import { kindString, parseTypeOrNameArgs } from '../resources.js';
import type { Session } from '../session.js';
import { toJson, toYaml } from '../../printers/serialize.js';

export interface Target {
  rt: ResourceType;
  obj: KObject;
}

/** One object found, or why one named object could not be read. */
export type Resolved = Target | { error: unknown };

export interface TargetOptions {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  /** `--all` (scale): a bare type lists every object of it. */
  all?: boolean;
  /**
   * Whether a bare type without a selector means every object of it (rollout:
   * kubectl's ResourceTypeOrNameArgs(true, ...)); else it is an error.
   */
  allowEmptySelector: boolean;
}

/**
 * The objects in argument order, each read from the server, with the
 * failures in their place (kubectl's visitors meet them in that order).
 * Usage errors (no name, names with a selector) throw before any read.
 */
export async function resolveTargets(s: Session, args: readonly string[], opts: TargetOptions): Promise<Resolved[]> {
  const client = s.client();
  const out: Resolved[] = [];
  const nsOf = (rt: ResourceType, own?: string) => (rt.namespaced ? own || s.namespace : undefined);
  const read = async (rt: ResourceType, namespace: string | undefined, name: string) => {
    try {
      out.push({ rt, obj: withTypeMeta(rt, await client.get(rt, namespace, name)) });
    } catch (err) {
      out.push({ error: err });
    }
  };
  if (opts.filename?.length) {
    if (args.length > 0) throw new CliError('resource/name arguments cannot be provided when a path is specified');
    for (const m of mapManifests(await readManifests(opts.filename, { recursive: opts.recursive ?? false, stdin: () => s.io.readStdin() }))) {
      if (!m.rt) {
        out.push({ error: m.error });
        continue;
      }
      const own = m.object.metadata.namespace;
      if (m.rt.namespaced && own && s.namespaceExplicit && own !== s.namespace) {
        throw new CliError(
          `the namespace from the provided object "${own}" does not match the namespace "${s.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
        );
      }
      await read(m.rt, nsOf(m.rt, own), m.object.metadata.name ?? '');
    }
    return out;
  }
  const bySelector = Boolean(opts.selector || opts.all);
  if (bySelector && args.some((a) => a.includes('/'))) throw new CliError('selectors and the all flag cannot be used when passing resource/name arguments');
  const targets = parseTypeOrNameArgs(args);
  for (const t of targets) {
    if (t.names.length > 0 && bySelector) throw new CliError('name cannot be provided when a selector is specified');
    if (t.names.length === 0 && !bySelector && !opts.allowEmptySelector) throw new CliError('resource(s) were provided, but no name was specified');
  }
  for (const t of targets) {
    if (t.names.length > 0) {
      for (const name of t.names) await read(t.rt, nsOf(t.rt), name);
      continue;
    }
    const list = await listObjects(client, t.rt, nsOf(t.rt), opts.selector ? { labelSelector: opts.selector } : {});
    for (const obj of list.items) out.push({ rt: t.rt, obj });
  }
  return out;
}

export function isTarget(r: Resolved): r is Target {
  return 'obj' in r;
}

/** `deployments.apps`: how kubectl names a resource in `error: deployments.apps "web" ...`. */
export function resourceString(rt: ResourceType): string {
  return rt.group ? `${rt.resource}.${rt.group}` : rt.resource;
}

/** schema.GroupKind's String(): `Deployment.apps`, `Pod`. */
export function groupKindString(rt: ResourceType): string {
  return rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
}

/** The `-o` formats these commands print: kubectl's name printer (with an operation), yaml or json. */
export type ObjectOutput = 'default' | 'name' | 'yaml' | 'json';

export function parseObjectOutput(value: string | undefined): ObjectOutput {
  if (value === undefined || value === '') return 'default';
  if (value === 'name' || value === 'yaml' || value === 'json') return value;
  throw new CliError(`unable to match a printer suitable for the output format "${value}", allowed formats are: json,name,yaml`);
}

/**
 * Prints objects one at a time as kubectl's printers do: `kind.group/name
 * operation`, the bare name with `-o name`, and YAML documents separated by
 * `---` (the separator only before the second and later ones).
 */
export class ObjectPrinter {
  private printed = 0;

  constructor(
    private readonly s: Session,
    private readonly output: ObjectOutput,
  ) {}

  print(rt: ResourceType, obj: KObject, operation: string): void {
    const n = this.printed++;
    if (this.output === 'default' || this.output === 'name') {
      const op = this.output === 'default' && operation ? ` ${operation}` : '';
      this.s.io.out(`${kindString(rt)}/${obj.metadata.name ?? ''}${op}\n`);
      return;
    }
    const shown = hideManagedFields(withTypeMeta(rt, obj));
    if (this.output === 'json') this.s.io.out(toJson(shown));
    else this.s.io.out(`${n > 0 ? '---\n' : ''}${toYaml(shown)}`);
  }
}

/** kubectl leaves metadata.managedFields out of printed objects. */
function hideManagedFields(o: KObject): KObject {
  if (!o.metadata?.managedFields) return o;
  const { managedFields: _mf, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** A whole-number flag value, with pflag's wording when it is not one. */
export function intFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(value)) throw new CliError(`invalid argument "${value}" for "--${flag}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
