/**
 * `kumo delete`: by TYPE/NAME, TYPE NAME..., -f manifests, or a label
 * selector / --all over a type. Prints `pod "nginx" deleted from default
 * namespace` as kubectl 1.35 does, then (by default, like kubectl) waits
 * until every deleted object is really gone: graceful deletion and
 * finalizers can keep an object for a while after the DELETE returns.
 */
import { Command } from 'commander';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { isForbidden, isGone, isMethodNotSupported, isNotFound, isResourceExpired, isTimeout } from '../../api/errors.js';
import type { KubeClient } from '../../client/client.js';
import { AggregateCliError, CliError, withSource } from '../errors.js';
import { listObjects } from '../fetch.js';
import { mapManifests, readManifests } from '../manifests.js';
import { collect, type DryRun, dryRunSuffix, parseDryRun } from '../options.js';
import { parseDuration } from '../../util/duration.js';
import { kindString, resolveTargets } from '../resources.js';
import type { Cli, Session } from '../session.js';

interface DeleteOptions {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  gracePeriod: string;
  now?: boolean;
  force?: boolean;
  wait: boolean;
  timeout: string;
  cascade: string;
  dryRun?: string | boolean;
  output?: string;
  ignoreNotFound?: boolean;
}

interface Target {
  rt: ResourceType;
  namespace: string | undefined;
  name: string;
  source?: string;
}

const parseBool = (v: string) => v !== 'false';

function propagation(cascade: string): 'Background' | 'Foreground' | 'Orphan' {
  switch (cascade) {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
    default:
      throw new CliError(`invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan".`);
  }
}

/**
 * Waits until `name` is gone or was replaced (another UID): a GET, then a
 * watch from the object's resourceVersion until DELETED; a watch that ends
 * early is followed by another GET, so a missed event cannot hang the wait.
 */
export async function waitForDeletion(
  client: KubeClient,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  uid: string | undefined,
  deadline: number,
): Promise<void> {
  for (;;) {
    const obj = await client.find(rt, namespace, name);
    if (!obj || (uid && obj.metadata.uid !== uid)) return;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new CliError(`timed out waiting for the condition on ${rt.resource}/${name}`);
    const ac = new AbortController();
    const slice = Math.min(remaining, 60_000);
    const timer = setTimeout(() => ac.abort(), slice);
    try {
      const events = await client.watch(
        rt,
        namespace,
        { fieldSelector: `metadata.name=${name}`, resourceVersion: obj.metadata.resourceVersion ?? '0', timeoutSeconds: Math.max(1, Math.ceil(slice / 1000)) },
        ac.signal,
      );
      for await (const ev of events) {
        if (ev.type === 'DELETED' && (!uid || ev.object.metadata?.uid === uid)) return;
        if (ev.type === 'ERROR') break;
      }
    } catch (err) {
      // An expired resourceVersion or an aborted stream: look again.
      if (!ac.signal.aborted && !(isResourceExpired(err) || isGone(err) || isTimeout(err))) throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function targetsFor(s: Session, args: string[], opts: DeleteOptions): Promise<{ targets: Target[]; errors: unknown[]; ignoreNotFound: boolean }> {
  const errors: unknown[] = [];
  const bySelector = Boolean(opts.all || opts.selector || opts.fieldSelector);
  const ignoreNotFound = opts.ignoreNotFound ?? bySelector;
  if (opts.filename?.length) {
    if (args.length > 0) throw new CliError('resource(s) were provided along with filenames: use one or the other');
    const targets: Target[] = [];
    for (const m of mapManifests(await readManifests(opts.filename, { recursive: opts.recursive ?? false, stdin: () => s.io.readStdin() }))) {
      if (!m.rt) {
        errors.push(m.error);
        continue;
      }
      const own = m.object.metadata.namespace;
      if (m.rt.namespaced && own && s.namespaceExplicit && own !== s.namespace) {
        throw new CliError(
          `the namespace from the provided object "${own}" does not match the namespace "${s.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
        );
      }
      targets.push({ rt: m.rt, namespace: m.rt.namespaced ? own || s.namespace : undefined, name: m.object.metadata.name ?? '', source: m.source });
    }
    return { targets, errors, ignoreNotFound };
  }
  if (args.length === 0) throw new CliError('You must provide one or more resources by argument or filename.');
  const targets: Target[] = [];
  for (const t of await resolveTargets(s.client(), args)) {
    if (t.names.length > 0) {
      if (bySelector) throw new CliError('name cannot be provided when a selector is specified');
      for (const name of t.names) targets.push({ rt: t.rt, namespace: t.rt.namespaced ? s.namespace : undefined, name });
      continue;
    }
    if (!bySelector) throw new CliError('resource(s) were provided, but no name was specified');
    const ns = t.rt.namespaced && !opts.allNamespaces ? s.namespace : undefined;
    const list = await listObjects(s.client(), t.rt, ns, { labelSelector: opts.selector, fieldSelector: opts.fieldSelector });
    for (const o of list.items) targets.push({ rt: t.rt, namespace: t.rt.namespaced ? o.metadata.namespace : undefined, name: o.metadata.name ?? '' });
  }
  return { targets, errors, ignoreNotFound };
}

async function runDelete(s: Session, args: string[], opts: DeleteOptions): Promise<void> {
  let grace = Number(opts.gracePeriod);
  if (!Number.isInteger(grace)) throw new CliError(`invalid argument "${opts.gracePeriod}" for "--grace-period" flag`);
  if (opts.now) {
    if (grace !== -1) throw new CliError('--now and --grace-period cannot be specified together');
    grace = 1;
  }
  if (grace === 0 && !opts.force) grace = 1;
  if (opts.force && grace < 0) grace = 0;
  if (opts.force && grace > 0) throw new CliError('--force and --grace-period greater than 0 cannot be specified together');
  if (opts.force && grace === 0) {
    s.io.err(
      'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n',
    );
  }
  const policy = propagation(opts.cascade);
  const dryRun: DryRun = parseDryRun(opts.dryRun);
  const timeoutMs = parseDuration(opts.timeout);
  if (opts.output && opts.output !== 'name') throw new CliError(`unexpected -o output mode: ${opts.output}. We only support '-o name'`);

  const { targets, errors, ignoreNotFound } = await targetsFor(s, args, opts);
  const client = s.client();
  const deleted: (Target & { uid?: string })[] = [];
  let warnedClusterScope = false;
  for (const t of targets) {
    if (!t.rt.namespaced && s.namespaceExplicit && !opts.allNamespaces && !warnedClusterScope) {
      s.io.err('Warning: deleting cluster-scoped resources, not scoped to the provided namespace\n');
      warnedClusterScope = true;
    }
    let uid: string | undefined;
    if (dryRun !== 'client') {
      try {
        const res = await client.delete<KObject | { kind: 'Status'; details?: { uid?: string } }>(t.rt, t.namespace, t.name, {
          propagationPolicy: policy,
          ...(grace >= 0 ? { gracePeriodSeconds: grace } : {}),
          ...(dryRun === 'server' ? { dryRun: true } : {}),
        });
        uid = res.kind === 'Status' ? (res as { details?: { uid?: string } }).details?.uid : (res as KObject).metadata?.uid;
      } catch (err) {
        if (ignoreNotFound && isNotFound(err)) continue;
        errors.push(withSource('deleting', t.source, err));
        continue;
      }
    }
    deleted.push({ ...t, ...(uid ? { uid } : {}) });
    const kind = kindString(t.rt);
    if (opts.output === 'name') s.io.out(`${kind}/${t.name}\n`);
    else {
      let operation = grace === 0 ? 'force deleted' : 'deleted';
      if (t.rt.namespaced) operation += ` from ${t.namespace} namespace`;
      s.io.out(`${kind} "${t.name}" ${operation}${dryRunSuffix(dryRun)}\n`);
    }
  }
  if (targets.length === 0 && errors.length === 0) {
    s.io.out('No resources found\n');
    return;
  }
  if (opts.wait && dryRun === 'none') {
    const deadline = Date.now() + (timeoutMs === 0 ? 7 * 24 * 3_600_000 : timeoutMs);
    for (const d of deleted) {
      try {
        await waitForDeletion(client, d.rt, d.namespace, d.name, d.uid, deadline);
      } catch (err) {
        if (isForbidden(err) || isMethodNotSupported(err)) continue;
        errors.push(err);
      }
    }
  }
  if (errors.length > 0) throw new AggregateCliError(errors);
}

export function deleteCommand(cli: Cli): Command {
  return new Command('delete')
    .description('Delete resources by file names, stdin, resources and names, or by resources and label selector')
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME..., or TYPE with -l/--all')
    .option('-f, --filename <file>', 'file, directory or - with the objects to delete (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('-l, --selector <selector>', 'delete the objects of TYPE matching this label selector')
    .option('--field-selector <selector>', 'delete the objects of TYPE matching this field selector')
    .option('--all', 'delete every object of TYPE in the namespace')
    .option('-A, --all-namespaces', 'with --all or a selector, across all namespaces')
    .option('--grace-period <seconds>', 'seconds the object has to terminate gracefully (-1: its default)', '-1')
    .option('--now', 'signal the object to terminate immediately (grace period 1)')
    .option('--force', 'delete immediately, without waiting for the object to terminate (grace period 0)')
    .option('--wait [bool]', 'wait until the objects are gone', parseBool, true)
    .option('--timeout <duration>', 'how long to wait, e.g. 30s (0: a week)', '0s')
    .option('--cascade <policy>', 'background, foreground or orphan', 'background')
    .option('--dry-run [strategy]', 'none, server or client')
    .option('-o, --output <format>', 'output format: name')
    .option('--ignore-not-found [bool]', 'treat not-found objects as deleted (default true with --all or a selector)', parseBool)
    .action(async function (this: Command, args: string[]) {
      await runDelete(cli.session(this), args, this.opts<DeleteOptions>());
    });
}
