/**
 * `kumo scale --replicas=N (TYPE NAME | TYPE/NAME | -f FILE | TYPE -l SEL | TYPE --all)`:
 * sets the size of deployments and replica sets through their `scale`
 * subresource, as kubectl v1.35 does: a merge patch
 * `{"spec":{"replicas":N}}`, or, with `--current-replicas` or
 * `--resource-version`, a GET of the Scale, the precondition checked, and a
 * PUT carrying its resourceVersion (a 409 from a concurrent writer is
 * retried, the precondition checked again). Prints
 * `deployment.apps/web scaled`; `--timeout` then waits until the object's
 * status reports the new size.
 */
import { Command } from 'commander';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { StatusError, isConflict } from '../../api/errors.js';
import { type KubeClient, resourcePath } from '../../client/client.js';
import { AggregateCliError, CliError } from '../errors.js';
import { collect, type DryRun, dryRunSuffix, parseDryRun } from '../options.js';
import { parseDuration } from '../../util/duration.js';
import type { Cli, Session } from '../session.js';
import { intFlag, isTarget, ObjectPrinter, parseObjectOutput, resolveTargets, resourceString } from './workload-targets.js';
import { watchUntil, WatchTimeoutError } from './watch-until.js';
import { sleep } from '../../util/sleep.js';

interface ScaleOptions {
  replicas?: string;
  currentReplicas?: string;
  resourceVersion?: string;
  timeout: string;
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  all?: boolean;
  dryRun?: string | boolean;
  output?: string;
}

/** autoscaling/v1 Scale, as far as kubectl reads it. */
interface Scale {
  metadata: { resourceVersion?: string; [k: string]: unknown };
  spec?: { replicas?: number };
  status?: { replicas?: number };
  [k: string]: unknown;
}

/** --current-replicas (-1: none) and --resource-version (empty: none). */
interface Precondition {
  size: number;
  resourceVersion: string;
}

/** kubectl's scale.NewRetryParams(1s, 5m): conflicts are retried every second for five minutes. */
const CONFLICT_RETRY_MS = 1_000;
const CONFLICT_RETRY_FOR_MS = 5 * 60_000;

const NO_RESOURCES =
  "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'";

/** PreconditionError.Error(). */
function checkPrecondition(p: Precondition, scale: Scale): void {
  const size = scale.spec?.replicas ?? 0;
  if (p.size !== -1 && size !== p.size) throw new CliError(`Expected replicas to be ${p.size}, was ${size}`);
  const rv = scale.metadata.resourceVersion ?? '';
  if (p.resourceVersion && rv !== p.resourceVersion) throw new CliError(`Expected resource version to be ${p.resourceVersion}, was ${rv}`);
}

/** ScaleSimple retried on conflicts: returns the size the server reports after the write. */
async function scaleOne(
  client: KubeClient,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  replicas: number,
  precondition: Precondition | undefined,
  dryRun: boolean,
): Promise<number> {
  const path = resourcePath(rt, namespace, name, 'scale');
  const query = new URLSearchParams(dryRun ? { dryRun: 'All' } : {});
  const giveUp = Date.now() + CONFLICT_RETRY_FOR_MS;
  for (;;) {
    try {
      let updated: Scale;
      if (precondition) {
        const scale = await client.call<Scale>({ method: 'GET', path });
        checkPrecondition(precondition, scale);
        updated = await client.call<Scale>({ method: 'PUT', path, query, body: { ...scale, spec: { ...(scale.spec ?? {}), replicas } } });
      } else {
        updated = await client.call<Scale>({ method: 'PATCH', path, query, body: { spec: { replicas } }, contentType: 'application/merge-patch+json' });
      }
      return updated.spec?.replicas ?? 0;
    } catch (err) {
      if (!isConflict(err) || Date.now() + CONFLICT_RETRY_MS > giveUp) throw err;
      await sleep(CONFLICT_RETRY_MS);
    }
  }
}

/**
 * WaitForScaleHasDesiredReplicas, on a watch instead of a 1 s poll: done when
 * spec and status both say `replicas`, or when someone else changed spec.
 */
async function waitForReplicas(
  client: KubeClient,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  try {
    await watchUntil(client, rt, namespace, name, {
      deadline: Date.now() + timeoutMs,
      onEvent: (type, obj) => {
        if (type === 'DELETED') throw new StatusError(404, 'NotFound', `${resourceString(rt)} "${name}" not found`);
        const spec = (obj.spec ?? {}) as { replicas?: number };
        const status = (obj.status ?? {}) as { replicas?: number };
        if ((spec.replicas ?? 0) !== replicas) return true;
        return (status.replicas ?? 0) === replicas;
      },
    });
  } catch (err) {
    if (err instanceof WatchTimeoutError) throw new CliError(`timed out waiting for "${name}" to be synced`);
    throw err;
  }
}

function withReplicas(obj: KObject, replicas: number): KObject {
  return { ...obj, spec: { ...((obj.spec ?? {}) as object), replicas } };
}

async function runScale(s: Session, args: string[], opts: ScaleOptions): Promise<void> {
  if (opts.replicas === undefined) throw new CliError('required flag(s) "replicas" not set');
  const dryRun: DryRun = parseDryRun(opts.dryRun);
  const output = parseObjectOutput(opts.output);
  const replicas = intFlag('replicas', opts.replicas, 0);
  const currentReplicas = intFlag('current-replicas', opts.currentReplicas, -1);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(opts.timeout);
  } catch {
    throw new CliError(`invalid argument "${opts.timeout}" for "--timeout" flag: time: invalid duration "${opts.timeout}"`);
  }
  if (replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  if (currentReplicas < -1) throw new CliError('The --current-replicas must specify an integer of -1 or greater');
  if (args.length === 0 && !opts.filename?.length) throw new CliError(NO_RESOURCES);

  const resolved = await resolveTargets(s, args, {
    filename: opts.filename,
    recursive: opts.recursive,
    selector: opts.selector,
    all: opts.all,
    allowEmptySelector: false,
  });
  const targets = resolved.filter(isTarget);
  const errors = resolved.flatMap((r) => ('error' in r ? [r.error] : []));
  if (opts.resourceVersion && targets.length > 1) throw new CliError('cannot use --resource-version with multiple resources');
  // Only a precondition needs the GET-then-PUT; without one a blind patch avoids a read that may fail.
  const precondition = currentReplicas !== -1 || opts.resourceVersion ? { size: currentReplicas, resourceVersion: opts.resourceVersion ?? '' } : undefined;
  if (targets.length === 0) {
    if (errors.length > 0) throw new AggregateCliError(errors);
    throw new CliError('no objects passed to scale');
  }
  const client = s.client();
  const printer = new ObjectPrinter(s, output);
  for (const { rt, obj } of targets) {
    const name = obj.metadata.name ?? '';
    if (dryRun === 'client') {
      printer.print(rt, withReplicas(obj, replicas), `scaled${dryRunSuffix(dryRun)}`);
      continue;
    }
    // As kubectl, the first failed scale ends the command; unreadable objects are reported after.
    const actual = await scaleOne(client, rt, obj.metadata.namespace, name, replicas, precondition, dryRun === 'server');
    if (timeoutMs !== 0 && dryRun === 'none') await waitForReplicas(client, rt, obj.metadata.namespace, name, replicas, timeoutMs);
    printer.print(rt, withReplicas(obj, actual), `scaled${dryRunSuffix(dryRun)}`);
  }
  if (errors.length > 0) throw new AggregateCliError(errors);
}

export function scaleCommand(cli: Cli): Command {
  return new Command('scale')
    .description('Set a new size for a deployment or replica set')
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME..., or TYPE with -l/--all')
    .option('--replicas <count>', 'the new desired number of replicas (required)')
    .option('--current-replicas <count>', 'precondition: the current size must be this (-1: no condition)')
    .option('--resource-version <version>', 'precondition: the current resource version must be this')
    .option('--timeout <duration>', 'wait this long for the new size to be reached, e.g. 30s (0: do not wait)', '0s')
    .option('-f, --filename <file>', 'file, directory or - with the objects to scale (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('-l, --selector <selector>', 'scale the objects of TYPE matching this label selector')
    .option('--all', 'scale every object of TYPE in the namespace')
    .option('--dry-run [strategy]', 'none, server or client')
    .option('-o, --output <format>', 'output format: name, yaml or json')
    .action(async function (this: Command, args: string[]) {
      await runScale(cli.session(this), args, this.opts<ScaleOptions>());
    });
}
