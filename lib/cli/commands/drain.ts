/**
 * `kumo cordon|uncordon NODE...` and `kumo drain NODE...`, as kubectl v1.35
 * does them: cordon marks the node unschedulable (kumo adds the
 * `node.kubernetes.io/unschedulable:NoSchedule` taint with it, which
 * Kubernetes' node lifecycle controller would); drain cordons, then evicts
 * the node's pods through the `pods/eviction` subresource, all at once (each
 * with its own terminationGracePeriodSeconds unless --grace-period says
 * otherwise; one a PodDisruptionBudget refuses is retried every 5 s until
 * --timeout) and waits for them to be gone. Like kubectl it refuses, unless told, to touch
 * DaemonSet pods (--ignore-daemonsets), pods no controller would recreate
 * (--force) and pods with emptyDir data (--delete-emptydir-data); mirror
 * pods are always skipped. Output and errors are kubectl's, word for word.
 */
import { Command } from 'commander';
import type { Node } from '../../api/core/v1/node.js';
import type { Pod } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import { NODES, PODS } from '../../kinds/resources.js';
import { StatusError, isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../client/client.js';
import { evictPod, isDaemonSetPod, isMirrorPod, isTerminal, setUnschedulable } from '../../cloudprovider/node-drain.js';
import { controllerRef } from '../../api/meta/v1/owner-references.js';
import { CliError, ExitCodeError } from '../errors.js';
import { type DryRun, dryRunSuffix, parseDryRun } from '../options.js';
import { parseDuration } from '../../util/duration.js';
import type { Cli } from '../session.js';
import { sleep } from '../../util/sleep.js';

type N = Node & KObject;
type P = Pod & KObject;

interface CordonOptions {
  selector?: string;
  dryRun?: string | boolean;
}

interface DrainOptions extends CordonOptions {
  force?: boolean;
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  deleteLocalData?: boolean;
  gracePeriod: string;
  timeout: string;
  podSelector?: string;
  disableEviction?: boolean;
  skipWaitForDeleteTimeout: string;
}

/** kubectl's drain filter messages (k8s.io/kubectl/pkg/drain/filters.go). */
const DAEMONSET_FATAL = 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)';
const DAEMONSET_WARNING = 'ignoring DaemonSet-managed Pods';
const LOCAL_STORAGE_FATAL = 'Pods with local storage (use --delete-emptydir-data to override)';
const LOCAL_STORAGE_WARNING = 'deleting Pods with local storage';
const UNMANAGED_FATAL = 'cannot delete Pods that declare no controller (use --force to override)';
const UNMANAGED_WARNING = 'deleting Pods that declare no controller';

/** The nodes named, or selected by -l; a usage error without either. */
async function targetNodes(client: KubeClient, verb: string, names: string[], selector: string | undefined): Promise<N[]> {
  if (names.length === 0 && !selector) throw new CliError(`USAGE: ${verb} NODE [flags]\nSee 'kumo ${verb} -h' for help and examples`);
  if (names.length > 0 && selector) throw new CliError('error: cannot specify both a node name and a --selector option');
  if (selector) return (await client.listAll<N>(NODES, undefined, { labelSelector: selector })).items;
  const out: N[] = [];
  for (const name of names) out.push(await client.get<N>(NODES, undefined, name));
  return out;
}

/** Cordons or uncordons each node, printing `node/NAME cordoned` (or `already cordoned`). */
async function cordonAll(client: KubeClient, out: (line: string) => void, nodes: N[], desired: boolean, dryRun: DryRun): Promise<void> {
  const verb = desired ? 'cordoned' : 'uncordoned';
  for (const node of nodes) {
    const name = node.metadata.name!;
    const already = (node.spec?.unschedulable === true) === desired;
    if (already) {
      out(`node/${name} already ${verb}`);
      continue;
    }
    if (dryRun !== 'client') await setUnschedulable(client, name, desired, { dryRun: dryRun === 'server' });
    out(`node/${name} ${verb}${dryRunSuffix(dryRun)}`);
  }
}

function cordonCommandOf(cli: Cli, verb: 'cordon' | 'uncordon'): Command {
  const desired = verb === 'cordon';
  return new Command(verb)
    .description(desired ? 'Mark node as unschedulable' : 'Mark node as schedulable')
    .argument('[node...]', 'the nodes')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on')
    .option('--dry-run [strategy]', 'none, server or client')
    .action(async function (this: Command, names: string[]) {
      const o = this.opts<CordonOptions>();
      const dryRun = parseDryRun(o.dryRun);
      const client = cli.session(this).client();
      const nodes = await targetNodes(client, verb, names, o.selector);
      await cordonAll(client, (l) => cli.io.out(`${l}\n`), nodes, desired, dryRun);
    });
}

export function cordonCommand(cli: Cli): Command {
  return cordonCommandOf(cli, 'cordon');
}

export function uncordonCommand(cli: Cli): Command {
  return cordonCommandOf(cli, 'uncordon');
}

interface Filtered {
  pods: P[];
  warnings: Map<string, string[]>;
  errors: Map<string, string[]>;
}

/** kubectl's drain filters, in its order; the first filter that keeps a pod decides. */
function filterPods(pods: P[], o: DrainOptions, skipWaitSeconds: number, now: number): Filtered {
  const out: Filtered = { pods: [], warnings: new Map(), errors: new Map() };
  const note = (m: Map<string, string[]>, msg: string, pod: P) => m.set(msg, [...(m.get(msg) ?? []), `${pod.metadata.namespace}/${pod.metadata.name}`]);
  for (const pod of pods) {
    const deleted = Date.parse(pod.metadata.deletionTimestamp ?? '');
    if (skipWaitSeconds > 0 && !Number.isNaN(deleted) && (now - deleted) / 1000 > skipWaitSeconds) continue;
    if (isDaemonSetPod(pod) && !isTerminal(pod)) {
      if (o.ignoreDaemonsets) note(out.warnings, DAEMONSET_WARNING, pod);
      else note(out.errors, DAEMONSET_FATAL, pod);
      continue;
    }
    if (isMirrorPod(pod)) continue;
    let warning: string | undefined;
    if ((pod.spec?.volumes ?? []).some((v) => v.emptyDir) && !isTerminal(pod)) {
      if (!(o.deleteEmptydirData || o.deleteLocalData)) {
        note(out.errors, LOCAL_STORAGE_FATAL, pod);
        continue;
      }
      warning = LOCAL_STORAGE_WARNING;
    }
    if (!controllerRef(pod) && !isTerminal(pod)) {
      if (!o.force) {
        note(out.errors, UNMANAGED_FATAL, pod);
        continue;
      }
      warning = UNMANAGED_WARNING;
    }
    if (warning) note(out.warnings, warning, pod);
    out.pods.push(pod);
  }
  return out;
}

/** PodDeleteList.errors(): one error per message, `cannot delete <message>: ns/a, ns/b`. */
function filterErrors(errors: Map<string, string[]>): string[] {
  return [...errors].map(([msg, pods]) => `cannot delete ${msg}: ${pods.join(', ')}`);
}

/** utilerrors.Aggregate's Error(): one message as is, several in brackets. */
function aggregate(messages: string[]): string {
  return messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
}

class DrainError extends Error {
  override name = 'DrainError';
  constructor(readonly messages: string[]) {
    super(aggregate(messages));
  }
}

export function drainCommand(cli: Cli): Command {
  return new Command('drain')
    .description('Drain node in preparation for maintenance')
    .argument('[node...]', 'the nodes')
    .option('--force', 'Continue even if there are pods not managed by a ReplicationController, ReplicaSet, Job, DaemonSet or StatefulSet.')
    .option('--ignore-daemonsets', 'Ignore DaemonSet-managed pods.')
    .option('--delete-emptydir-data', 'Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained).')
    .option('--delete-local-data', 'Deprecated: use --delete-emptydir-data.')
    .option('--grace-period <seconds>', "Period of time in seconds given to each pod to terminate gracefully. If negative, the pod's own is used.", '-1')
    .option('--timeout <duration>', 'The length of time to wait before giving up, zero means infinite', '0s')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on')
    .option('--pod-selector <selector>', 'Label selector to filter pods on the node')
    .option('--disable-eviction', 'Force drain to use delete, even if eviction is supported.')
    .option('--skip-wait-for-delete-timeout <seconds>', 'If pod DeletionTimestamp older than N seconds, skip waiting for the pod.', '0')
    .option('--dry-run [strategy]', 'none, server or client')
    .action(async function (this: Command, names: string[]) {
      const o = this.opts<DrainOptions>();
      const out = (l: string) => cli.io.out(`${l}\n`);
      const err = (l: string) => cli.io.err(`${l}\n`);
      const dryRun = parseDryRun(o.dryRun);
      const grace = Number(o.gracePeriod);
      if (!Number.isInteger(grace))
        throw new CliError(`invalid argument "${o.gracePeriod}" for "--grace-period" flag: strconv.ParseInt: parsing "${o.gracePeriod}": invalid syntax`);
      const skipWait = Number(o.skipWaitForDeleteTimeout);
      if (!Number.isInteger(skipWait))
        throw new CliError(
          `invalid argument "${o.skipWaitForDeleteTimeout}" for "--skip-wait-for-delete-timeout" flag: strconv.ParseInt: parsing "${o.skipWaitForDeleteTimeout}": invalid syntax`,
        );
      let timeoutMs: number;
      try {
        timeoutMs = parseDuration(o.timeout);
      } catch {
        throw new CliError(`invalid argument "${o.timeout}" for "--timeout" flag: time: invalid duration "${o.timeout}"`);
      }
      const client = cli.session(this).client();
      const nodes = await targetNodes(client, 'drain', names, o.selector);
      await cordonAll(client, out, nodes, true, dryRun);

      const fatal: string[] = [];
      const remaining: string[] = [];
      for (const node of nodes) {
        const name = node.metadata.name!;
        try {
          await drainNode(client, name, o, { grace, skipWait, timeoutMs, dryRun, out, err });
          out(`node/${name} drained${dryRunSuffix(dryRun)}`);
        } catch (e) {
          const messages =
            e instanceof DrainError ? e.messages : [e instanceof StatusError ? `Error from server (${e.reason}): ${e.message}` : (e as Error).message];
          err(`error: unable to drain node "${name}" due to error: ${aggregate(messages)}, continuing command...`);
          fatal.push(...messages);
          remaining.push(name);
          err('There are pending nodes to be drained:');
          for (const r of remaining) err(` ${r}`);
        }
      }
      if (fatal.length > 0) throw new ExitCodeError(1, fatal.join('\n'));
    });
}

interface DrainRun {
  grace: number;
  skipWait: number;
  timeoutMs: number;
  dryRun: DryRun;
  out(line: string): void;
  err(line: string): void;
}

/** Evicts (or deletes) the node's pods and waits for them to be gone. Throws DrainError with kubectl's messages. */
async function drainNode(client: KubeClient, name: string, o: DrainOptions, run: DrainRun): Promise<void> {
  const listed = (
    await client.listAll<P>(PODS, undefined, { fieldSelector: `spec.nodeName=${name}`, ...(o.podSelector ? { labelSelector: o.podSelector } : {}) })
  ).items;
  const filtered = filterPods(listed, o, run.skipWait, Date.now());
  const errors = filterErrors(filtered.errors);
  if (errors.length > 0) throw new DrainError(errors);
  if (filtered.warnings.size > 0) run.err(`Warning: ${[...filtered.warnings].map(([msg, pods]) => `${msg}: ${pods.join(', ')}`).join('; ')}`);
  if (run.dryRun === 'client') {
    for (const pod of filtered.pods) run.out(`evicting pod ${pod.metadata.namespace}/${pod.metadata.name} (dry run)`);
    return;
  }
  const useEviction = !o.disableEviction;
  const deadline = run.timeoutMs > 0 ? Date.now() + run.timeoutMs : Infinity;
  const failures: string[] = [];
  const started: P[] = [];
  // Every pod at once, as kubectl's evictPods does (a goroutine each): a pod a budget holds back does not hold up the others.
  await Promise.all(
    filtered.pods.map(async (pod) => {
      const ref = `pods/${JSON.stringify(pod.metadata.name)} -n ${JSON.stringify(pod.metadata.namespace)}`;
      const announce = () => {
        if (run.dryRun === 'server') {
          run.out(`evicting pod ${pod.metadata.namespace}/${pod.metadata.name} (server dry run)`);
        } else {
          run.out(`pod/${pod.metadata.name} ${useEviction ? 'eviction' : 'deletion'} started`);
          if (useEviction) run.out(`evicting pod ${pod.metadata.namespace}/${pod.metadata.name}`);
        }
      };
      try {
        if (!useEviction) {
          announce();
          try {
            await client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, {
              ...(run.grace >= 0 ? { gracePeriodSeconds: run.grace } : {}),
              ...(run.dryRun === 'server' ? { dryRun: true } : {}),
            });
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
          started.push(pod);
          return;
        }
        // A disruption budget's 429 is retried every 5 s until the timeout, announced again on each attempt, as kubectl does.
        for (;;) {
          announce();
          if (Date.now() > deadline) throw new Error(`global timeout reached: ${o.timeout}`);
          const result = await evictPod(client, pod, {
            ...(run.grace >= 0 ? { gracePeriodSeconds: run.grace } : {}),
            ...(run.dryRun === 'server' ? { dryRun: true } : {}),
          });
          if (result !== 'blocked') {
            if (result === 'evicted') started.push(pod);
            return;
          }
          run.err(`error when evicting ${ref} (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`);
          await sleep(5_000);
        }
      } catch (e) {
        failures.push(`error when evicting ${ref}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }),
  );
  if (run.dryRun === 'server') {
    if (failures.length > 0) throw new DrainError(failures);
    return;
  }
  // Gone, or replaced by a pod of the same name (another uid), polled every second as kubectl does.
  let waiting = started;
  for (;;) {
    const still: P[] = [];
    for (const pod of waiting) {
      const current = await client.find<P>(PODS, pod.metadata.namespace, pod.metadata.name!);
      if (!current || current.metadata.uid !== pod.metadata.uid) run.out(`pod/${pod.metadata.name} ${useEviction ? 'evicted' : 'deleted'}`);
      else still.push(current);
    }
    waiting = still;
    if (waiting.length === 0) break;
    if (Date.now() + 1_000 > deadline) {
      for (const pod of waiting)
        failures.push(
          `error when waiting for pod ${JSON.stringify(pod.metadata.name)} in namespace ${JSON.stringify(pod.metadata.namespace)} to terminate: global timeout reached: ${o.timeout}`,
        );
      break;
    }
    await sleep(1_000);
  }
  if (failures.length > 0) {
    const left = (await client.listAll<P>(PODS, undefined, { fieldSelector: `spec.nodeName=${name}` })).items.filter(
      (p) => filterPods([p], { ...o, force: true, ignoreDaemonsets: true, deleteEmptydirData: true }, run.skipWait, Date.now()).pods.length > 0,
    );
    if (left.length > 0) {
      run.err(`There are pending pods in node ${JSON.stringify(name)} when an error occurred: ${aggregate(failures)}`);
      for (const p of left) run.err(`pod/${p.metadata.name}`);
    }
    throw new DrainError(failures);
  }
}
