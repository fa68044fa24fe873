/**
 * `kumo apply -f`: kubectl's client-side apply, so kubectl and kumo can take
 * turns on the same objects. The manifest (with its namespace filled in) is
 * stored in the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation; a missing object is created; an existing one gets the
 * three-way strategic merge patch of (last applied, manifest, live object),
 * or nothing at all when that patch is empty (`unchanged`).
 */
import { Command } from 'commander';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { isConflict } from '../../api/errors.js';
import { patchSchemaFor } from '../../apiserver/strategic-merge.js';
import { type KubeClient, resourcePath } from '../../client/client.js';
import { goJson } from '../../printers/serialize.js';
import { threeWayMergePatch } from '../apply/three-way.js';
import { AggregateCliError, CliError, withSource } from '../errors.js';
import { type MappedManifest, mapManifests, readManifests } from '../manifests.js';
import { collect, type DryRun, dryRunSuffix, parseDryRun } from '../options.js';
import { kindString } from '../resources.js';
import type { Cli, Session } from '../session.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const FIELD_MANAGER = 'kubectl-client-side-apply';
const MAX_PATCH_RETRIES = 5;

interface ApplyOptions {
  filename?: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
  output?: string;
  validate: string;
}

type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

function fieldValidation(v: string): FieldValidation {
  switch (v) {
    case 'true':
    case 'strict':
      return 'Strict';
    case 'warn':
      return 'Warn';
    case 'false':
    case 'ignore':
      return 'Ignore';
    default:
      throw new CliError(`invalid - validate option "${v}"; must be one of: strict (or true), warn, ignore (or false)`);
  }
}

/**
 * The object as apply sends it: its last-applied annotation set to the JSON
 * of the object without that annotation (annotations `{}` when it has none),
 * exactly as kubectl's GetModifiedConfiguration writes it.
 */
export function withLastApplied(obj: KObject): KObject {
  const copy = structuredClone(obj);
  const annotations: Record<string, string> = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  copy.metadata.annotations = annotations;
  const applied = `${goJson(copy)}\n`;
  copy.metadata.annotations = { ...annotations, [LAST_APPLIED]: applied };
  return copy;
}

function lastAppliedOf(obj: KObject): Record<string, unknown> | undefined {
  const text = obj.metadata.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Outcome = 'created' | 'configured' | 'unchanged';

async function applyOne(
  s: Session,
  client: KubeClient,
  m: MappedManifest & { rt: ResourceType },
  dryRun: DryRun,
  validation: FieldValidation,
): Promise<Outcome> {
  const { rt, source } = m;
  const obj = structuredClone(m.object);
  const name = obj.metadata.name;
  if (!name) {
    if (obj.metadata.generateName) throw new CliError(`from ${source}: cannot use generate name with apply`);
    throw new CliError(`error when retrieving current configuration of "${source}": resource name may not be empty`);
  }
  let namespace: string | undefined;
  if (rt.namespaced) {
    const own = obj.metadata.namespace;
    if (own && s.namespaceExplicit && own !== s.namespace) {
      throw new CliError(
        `the namespace from the provided object "${own}" does not match the namespace "${s.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
      );
    }
    namespace = own || s.namespace;
    obj.metadata.namespace = namespace;
  }
  const modified = withLastApplied(obj);
  const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, fieldValidation: validation });
  if (dryRun === 'server') query.set('dryRun', 'All');

  let current: KObject | undefined;
  try {
    current = await client.find(rt, namespace, name);
  } catch (err) {
    throw withSource('retrieving current configuration of', source, err);
  }
  if (!current) {
    if (dryRun === 'client') return 'created';
    try {
      await client.call({ method: 'POST', path: resourcePath(rt, namespace), query, body: modified });
    } catch (err) {
      throw withSource('creating', source, err);
    }
    return 'created';
  }

  for (let attempt = 1; ; attempt++) {
    const original = lastAppliedOf(current);
    if (!original && attempt === 1) {
      s.io.err(
        `Warning: resource ${rt.resource}/${name} is missing the ${LAST_APPLIED} annotation which is required by apply. apply should only be used on resources created declaratively by apply. The missing annotation will be patched automatically.\n`,
      );
    }
    const patch = threeWayMergePatch(
      original,
      modified as unknown as Record<string, unknown>,
      current as unknown as Record<string, unknown>,
      patchSchemaFor(rt.kind),
    );
    if (Object.keys(patch).length === 0) return 'unchanged';
    if (dryRun === 'client') return 'configured';
    try {
      await client.call({
        method: 'PATCH',
        path: resourcePath(rt, namespace, name),
        query,
        body: patch,
        contentType: 'application/strategic-merge-patch+json',
      });
      return 'configured';
    } catch (err) {
      // Someone wrote the object between our read and our patch: recompute against the new live object, as kubectl does.
      if (isConflict(err) && attempt < MAX_PATCH_RETRIES) {
        const again = await client.find(rt, namespace, name);
        if (again) {
          current = again;
          continue;
        }
      }
      throw withSource('patching', source, err);
    }
  }
}

async function runApply(s: Session, opts: ApplyOptions): Promise<void> {
  if (!opts.filename?.length) throw new CliError('must specify one of -f and -k');
  if (opts.output && opts.output !== 'name')
    throw new CliError(`unable to match a printer suitable for the output format "${opts.output}", allowed formats are: name`);
  const dryRun = parseDryRun(opts.dryRun);
  const validation = fieldValidation(String(opts.validate));
  // Everything is read and parsed before the first write: a file that does not parse changes nothing.
  const manifests = mapManifests(await readManifests(opts.filename, { recursive: opts.recursive ?? false, stdin: () => s.io.readStdin() }));
  if (manifests.length === 0) throw new CliError('no objects passed to apply');
  const client = s.client();
  const errors: unknown[] = [];
  for (const m of manifests) {
    if (!m.rt) {
      errors.push(m.error);
      continue;
    }
    try {
      const outcome = await applyOne(s, client, m as MappedManifest & { rt: ResourceType }, dryRun, validation);
      const id = `${kindString(m.rt)}/${m.object.metadata.name}`;
      s.io.out(opts.output === 'name' ? `${id}\n` : `${id} ${outcome}${dryRunSuffix(dryRun)}\n`);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateCliError(errors);
}

export function applyCommand(cli: Cli): Command {
  return new Command('apply')
    .description('Apply a configuration to resources by file name or stdin (client-side apply, compatible with kubectl apply)')
    .option('-f, --filename <file>', 'file, directory or - (stdin) with the manifests to apply (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('--dry-run [strategy]', 'none, server or client: only report what would change')
    .option('-o, --output <format>', 'output format: name')
    .option('--validate <mode>', 'field validation: strict (true), warn or ignore (false)', 'strict')
    .action(async function (this: Command) {
      await runApply(cli.session(this), this.opts<ApplyOptions>());
    });
}
