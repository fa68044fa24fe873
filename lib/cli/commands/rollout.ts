/**
 * `kumo rollout status|history|undo|restart|pause|resume`: kubectl v1.35's
 * rollout commands for Deployments, with its wording, output and exit codes.
 *
 * - status: the object by name, then a list + watch on `metadata.name`; one
 *   line per observed state until it is rolled out (`--watch=false`: one
 *   line), `--timeout`, and an error once the progress deadline passed.
 * - history: the REVISION / CHANGE-CAUSE table from the ReplicaSets the
 *   Deployment controls, or one revision's pod template.
 * - undo: a JSON patch putting an older ReplicaSet's template (and its
 *   annotations) back into the Deployment.
 * - restart, pause, resume: strategic merge patches with field manager
 *   `kubectl-rollout` (the restartedAt template annotation, spec.paused).
 *
 * Objects are visited in argument order; failures are reported together at
 * the end, as kubectl's ContinueOnError visitors do.
 */
import { Command } from 'commander';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { DEPLOYMENTS, REPLICASETS } from '../../kinds/resources.js';
import { equalIgnoreHash } from '../../api/apps/v1/template-hash.js';
import { StatusError } from '../../api/errors.js';
import { AggregateCliError, CliError } from '../errors.js';
import { collect, type DryRun, dryRunSuffix, parseDryRun } from '../options.js';
import { parseDuration } from '../../util/duration.js';
import type { Cli, Session } from '../session.js';
import {
  byRevision,
  type D,
  deploymentReplicaSets,
  deploymentStatus,
  printTemplate,
  RESTARTED_AT,
  revisionNotFound,
  rfc3339Local,
  rollbackPatch,
  rollbackTarget,
  type RS,
  viewHistory,
} from './rollout-deployment.js';
import {
  groupKindString,
  intFlag,
  isTarget,
  ObjectPrinter,
  type ObjectOutput,
  parseObjectOutput,
  resolveTargets,
  resourceString,
  type Target,
} from './workload-targets.js';
import { watchUntil, WatchTimeoutError } from './watch-until.js';

/** The field manager kubectl's rollout patches name (`--field-manager` default). */
const FIELD_MANAGER = 'kubectl-rollout';

interface SelectOptions {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
}

const parseBool = (v: string) => v !== 'false';

function withSelectOptions(cmd: Command): Command {
  return cmd
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME..., or TYPE (every object of it, or those matching -l)')
    .option('-f, --filename <file>', 'file, directory or - naming the objects (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('-l, --selector <selector>', 'the objects of TYPE matching this label selector');
}

function requireResources(args: readonly string[], opts: SelectOptions): void {
  if (args.length === 0 && !opts.filename?.length) throw new CliError('required resource not specified');
}

/** Visits each object in order, collecting failures (those of reading it first) for one report at the end. */
async function visitAll(s: Session, args: string[], opts: SelectOptions, visit: (t: Target) => Promise<void>): Promise<{ visited: number; errors: unknown[] }> {
  const resolved = await resolveTargets(s, args, { ...opts, allowEmptySelector: true });
  const errors: unknown[] = [];
  let visited = 0;
  for (const r of resolved) {
    if (!isTarget(r)) {
      errors.push(r.error);
      continue;
    }
    visited++;
    try {
      await visit(r);
    } catch (err) {
      errors.push(err);
    }
  }
  return { visited, errors };
}

function finish(errors: unknown[]): void {
  if (errors.length > 0) throw new AggregateCliError(errors);
}

// ---- status ----

interface StatusOptions extends SelectOptions {
  watch: boolean;
  revision?: string;
  timeout: string;
}

function durationFlag(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new CliError(`invalid argument "${value}" for "--${flag}" flag: time: invalid duration "${value}"`);
  }
}

async function runStatus(s: Session, args: string[], opts: StatusOptions): Promise<void> {
  const revision = intFlag('revision', opts.revision, 0);
  const timeoutMs = durationFlag('timeout', opts.timeout);
  requireResources(args, opts);
  if (revision < 0) throw new CliError(`revision must be a positive integer: ${revision}`);
  const client = s.client();
  const { visited, errors } = await visitAll(s, args, opts, async ({ rt, obj }) => {
    if (rt !== DEPLOYMENTS) throw new CliError(`no status viewer has been implemented for ${groupKindString(rt)}`);
    try {
      await watchUntil(client, rt, obj.metadata.namespace, obj.metadata.name ?? '', {
        ...(timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {}),
        onEvent: (type, current) => {
          if (type === 'DELETED') throw new CliError('object has been deleted');
          const { message, done } = deploymentStatus(current as D, revision);
          s.io.out(message);
          return done || !opts.watch;
        },
      });
    } catch (err) {
      if (err instanceof WatchTimeoutError) throw new CliError('timed out waiting for the condition');
      throw err;
    }
  });
  finish(errors);
  if (visited === 0 && errors.length === 0) s.io.err(`No resources found in ${s.namespace} namespace.\n`);
}

// ---- history ----

interface HistoryOptions extends SelectOptions {
  revision?: string;
  output?: string;
}

/** The kinds kubectl's kind visitor knows: the others fail before a viewer is even looked for. */
const VISITABLE = new Set([
  'apps/DaemonSet',
  'apps/Deployment',
  'batch/Job',
  '/Pod',
  'apps/ReplicaSet',
  '/ReplicationController',
  'apps/StatefulSet',
  'batch/CronJob',
]);

/** HistoryViewerFor / RollbackerFor failing for a kind that is not a Deployment. */
function noHelper(rt: ResourceType, what: 'history' | 'rollbacker'): CliError {
  const gk = groupKindString(rt);
  if (!VISITABLE.has(`${rt.group}/${rt.kind}`)) {
    return new CliError(`error retrieving ${what} for "${gk}", no visitor method exists for {${rt.group} ${rt.kind}}`);
  }
  return new CliError(`no ${what === 'history' ? 'history viewer' : 'rollbacker'} has been implemented for "${gk}"`);
}

async function runHistory(s: Session, args: string[], opts: HistoryOptions): Promise<void> {
  const revision = intFlag('revision', opts.revision, 0);
  const output: ObjectOutput = parseObjectOutput(opts.output);
  requireResources(args, opts);
  if (revision < 0) throw new CliError(`revision must be a positive integer: ${revision}`);
  const client = s.client();
  const printer = new ObjectPrinter(s, output);
  const { errors } = await visitAll(s, args, opts, async ({ rt, obj }) => {
    if (rt !== DEPLOYMENTS) throw noHelper(rt, 'history');
    const name = obj.metadata.name ?? '';
    let sets: RS[];
    try {
      sets = await deploymentReplicaSets(client, await client.get<D>(DEPLOYMENTS, obj.metadata.namespace, name));
    } catch (err) {
      throw new CliError(`failed to retrieve deployment ${name}: ${(err as Error).message}`);
    }
    if (output !== 'default') {
      const revisions = byRevision(sets);
      if (revision > 0) {
        const rs = revisions.get(revision);
        if (!rs) throw new CliError('unable to find the specified revision');
        printer.print(REPLICASETS, rs, '');
        return;
      }
      for (const v of [...revisions.keys()].sort((a, b) => a - b)) printer.print(REPLICASETS, revisions.get(v)!, '');
      return;
    }
    const text = viewHistory(sets, revision);
    printer.print(rt, obj, `${revision > 0 ? `with revision #${revision}` : ''}\n${text}`);
  });
  finish(errors);
}

// ---- undo ----

interface UndoOptions extends SelectOptions {
  toRevision?: string;
  dryRun?: string | boolean;
  output?: string;
}

/** DeploymentRollbacker.Rollback: the operation to print ("rolled back", or why nothing was done). */
async function rollback(s: Session, obj: KObject, toRevision: number, dryRun: DryRun): Promise<string> {
  if (toRevision < 0) throw revisionNotFound(toRevision);
  const client = s.client();
  const name = obj.metadata.name ?? '';
  let d: D;
  try {
    d = await client.get<D>(DEPLOYMENTS, obj.metadata.namespace, name);
  } catch (err) {
    throw new CliError(`failed to retrieve Deployment ${name}: ${(err as Error).message}`);
  }
  let sets: RS[];
  try {
    sets = await deploymentReplicaSets(client, d);
  } catch (err) {
    throw new CliError(`failed to retrieve replica sets from deployment ${name}: ${(err as Error).message}`);
  }
  const rs = rollbackTarget(d, sets, toRevision);
  if (dryRun === 'client') return printTemplate(rs.spec?.template);
  if (d.spec?.paused) throw new CliError("you cannot rollback a paused deployment; resume it first with 'kumo rollout resume' and try again");
  if (equalIgnoreHash(rs.spec?.template, d.spec?.template)) return `skipped rollback (current template already matches revision ${toRevision})`;
  try {
    await client.patch(DEPLOYMENTS, d.metadata.namespace, name, rollbackPatch(d, rs), 'json', dryRun === 'server' ? { dryRun: true } : {});
  } catch (err) {
    throw new CliError(`failed restoring revision ${toRevision}: ${(err as Error).message}`);
  }
  return 'rolled back';
}

async function runUndo(s: Session, args: string[], opts: UndoOptions): Promise<void> {
  const dryRun = parseDryRun(opts.dryRun);
  const output = parseObjectOutput(opts.output);
  const toRevision = intFlag('to-revision', opts.toRevision, 0);
  requireResources(args, opts);
  const printer = new ObjectPrinter(s, output);
  const { errors } = await visitAll(s, args, opts, async ({ rt, obj }) => {
    if (rt !== DEPLOYMENTS) throw noHelper(rt, 'rollbacker');
    const result = await rollback(s, obj, toRevision, dryRun);
    printer.print(rt, obj, `${result}${dryRunSuffix(dryRun)}`);
  });
  finish(errors);
}

// ---- restart, pause, resume ----

interface PatchOptions extends SelectOptions {
  output?: string;
}

/** A strategic merge patch for one object, or why there is none (kubectl's set.PatchFn result). */
type PatchPlan = { patch: Record<string, unknown> } | { error: string } | { empty: true };

interface Patcher {
  /** What kubectl prints after the patch: `paused`, `resumed`, `restarted`. */
  done: string;
  plan(rt: ResourceType, obj: KObject, now: Date): PatchPlan;
  /** A patch that changes nothing: printed as `already ...` or refused. */
  onEmpty(rt: ResourceType, obj: KObject): { print: string } | { error: string };
}

const paused = (obj: KObject) => Boolean((obj.spec as { paused?: boolean } | undefined)?.paused);

const PAUSER: Patcher = {
  done: 'paused',
  plan: (rt, obj) => {
    if (rt !== DEPLOYMENTS) return { error: 'pausing is not supported' };
    if (paused(obj)) return { error: 'is already paused' };
    return { patch: { spec: { paused: true } } };
  },
  onEmpty: () => ({ print: 'already paused' }),
};

const RESUMER: Patcher = {
  done: 'resumed',
  plan: (rt, obj) => {
    if (rt !== DEPLOYMENTS) return { error: 'resuming is not supported' };
    if (!paused(obj)) return { error: 'is not paused' };
    // Go drops `paused: false` (omitempty), so the two-way merge patch deletes the field.
    return { patch: { spec: { paused: null } } };
  },
  onEmpty: () => ({ print: 'already resumed' }),
};

const RESTARTER: Patcher = {
  done: 'restarted',
  plan: (rt, obj, now) => {
    if (rt !== DEPLOYMENTS) return { error: 'restarting is not supported' };
    if (paused(obj)) return { error: "can't restart paused deployment (run rollout resume first)" };
    const stamp = rfc3339Local(now);
    const template = (obj.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template;
    // The stamp has whole seconds: a second restart within the same second changes nothing.
    if (template?.metadata?.annotations?.[RESTARTED_AT] === stamp) return { empty: true };
    return { patch: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: stamp } } } } } };
  },
  onEmpty: (_rt, obj) => ({
    error: `failed to create patch for ${obj.metadata.name}: if restart has already been triggered within the past second, please wait before attempting to trigger another`,
  }),
};

/** An aggregate nested inside another, printed the way Go prints it: `[a, b]`. */
class NestedAggregateError extends Error {
  override name = 'NestedAggregateError';
}

async function runPatcher(s: Session, args: string[], opts: PatchOptions, patcher: Patcher): Promise<void> {
  const output = parseObjectOutput(opts.output);
  requireResources(args, opts);
  const resolved = await resolveTargets(s, args, { ...opts, allowEmptySelector: true });
  const infos = resolved.filter(isTarget);
  const infoErrors = resolved.flatMap((r) => ('error' in r ? [r.error] : []));
  // kubectl keeps the builder's errors as one aggregate in front of the patch errors.
  const errors: unknown[] = [];
  if (infoErrors.length === 1) errors.push(infoErrors[0]);
  if (infoErrors.length > 1) errors.push(new NestedAggregateError(`[${infoErrors.map((e) => (e instanceof Error ? e.message : String(e))).join(', ')}]`));
  if (infos.length === 0 && errors.length === 0) {
    s.io.err(`No resources found in ${s.namespace} namespace.\n`);
    return;
  }
  const client = s.client();
  const printer = new ObjectPrinter(s, output);
  const now = new Date();
  for (const { rt, obj } of infos) {
    const name = obj.metadata.name ?? '';
    const plan = patcher.plan(rt, obj, now);
    if ('error' in plan) {
      errors.push(new CliError(`error: ${resourceString(rt)} "${name}" ${plan.error}`));
      continue;
    }
    if ('empty' in plan) {
      const r = patcher.onEmpty(rt, obj);
      if ('error' in r) errors.push(new CliError(r.error));
      else printer.print(rt, obj, r.print);
      continue;
    }
    let patched: KObject;
    try {
      patched = await client.patch(rt, obj.metadata.namespace, name, plan.patch, 'strategic', { fieldManager: FIELD_MANAGER });
    } catch (err) {
      errors.push(new CliError(`failed to patch: ${err instanceof StatusError || err instanceof Error ? err.message : String(err)}`));
      continue;
    }
    printer.print(rt, patched, patcher.done);
  }
  // A lone nested aggregate is flattened, as utilerrors.NewAggregate of one aggregate is.
  if (errors.length === 1 && errors[0] instanceof NestedAggregateError) throw new AggregateCliError(infoErrors);
  finish(errors);
}

// ---- the command ----

export function rolloutCommand(cli: Cli): Command {
  const rollout = new Command('rollout').description('Manage the rollout of deployments').showHelpAfterError(false);

  rollout.addCommand(
    withSelectOptions(new Command('history').description('View rollout history'))
      .option('--revision <n>', 'show the details, including the pod template, of this revision')
      .option('-o, --output <format>', 'output format: name, yaml or json (the ReplicaSets of the revisions)')
      .action(async function (this: Command, args: string[]) {
        await runHistory(cli.session(this), args, this.opts<HistoryOptions>());
      }),
  );
  rollout.addCommand(
    withSelectOptions(new Command('pause').description('Mark the provided resource as paused'))
      .option('-o, --output <format>', 'output format: name, yaml or json')
      .action(async function (this: Command, args: string[]) {
        await runPatcher(cli.session(this), args, this.opts<PatchOptions>(), PAUSER);
      }),
  );
  rollout.addCommand(
    withSelectOptions(new Command('restart').description('Restart a resource'))
      .option('-o, --output <format>', 'output format: name, yaml or json')
      .action(async function (this: Command, args: string[]) {
        await runPatcher(cli.session(this), args, this.opts<PatchOptions>(), RESTARTER);
      }),
  );
  rollout.addCommand(
    withSelectOptions(new Command('resume').description('Resume a paused resource'))
      .option('-o, --output <format>', 'output format: name, yaml or json')
      .action(async function (this: Command, args: string[]) {
        await runPatcher(cli.session(this), args, this.opts<PatchOptions>(), RESUMER);
      }),
  );
  rollout.addCommand(
    withSelectOptions(new Command('status').description('Show the status of the rollout'))
      .option('-w, --watch [bool]', 'watch the status of the rollout until it is done', parseBool, true)
      .option('--revision <n>', 'pin to this revision (0: the latest)')
      .option('--timeout <duration>', 'how long to watch before giving up, e.g. 30s (0: no end)', '0s')
      .action(async function (this: Command, args: string[]) {
        await runStatus(cli.session(this), args, this.opts<StatusOptions>());
      }),
  );
  rollout.addCommand(
    withSelectOptions(new Command('undo').description('Undo a previous rollout'))
      .option('--to-revision <n>', 'the revision to roll back to (0: the previous one)')
      .option('--dry-run [strategy]', 'none, server or client')
      .option('-o, --output <format>', 'output format: name, yaml or json')
      .action(async function (this: Command, args: string[]) {
        await runUndo(cli.session(this), args, this.opts<UndoOptions>());
      }),
  );
  return rollout;
}
