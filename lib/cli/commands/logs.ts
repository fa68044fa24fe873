/**
 * `kumo logs POD [CONTAINER] [-c C] [-f] [-p] [--tail N] [--since D]
 * [--timestamps] [--limit-bytes N]`: a container's log through the API
 * server's `pods/{name}/log` (which asks the agent running the pod), streamed
 * to stdout as it arrives; with -f until the container stops or Ctrl-C.
 * The default container is the `kubectl.kubernetes.io/default-container`
 * annotation's, else the first, as kubectl picks it.
 */
import { StringDecoder } from 'node:string_decoder';
import { Command } from 'commander';
import type { Pod } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import { errorFrom, resourcePath } from '../../client/client.js';
import { CliError } from '../errors.js';
import { parseDuration } from '../../util/duration.js';
import type { Cli, Session } from '../session.js';
import { PODS } from '../../kinds/resources.js';

type P = Pod & KObject;

/** `NAME` or `pod/NAME` (`po/NAME`, `pods/NAME`). */
export function podName(arg: string): string {
  const slash = arg.indexOf('/');
  if (slash < 0) return arg;
  const type = arg.slice(0, slash).toLowerCase();
  if (!['pod', 'pods', 'po'].includes(type)) throw new CliError(`only pods are supported here, not "${arg.slice(0, slash)}"`);
  return arg.slice(slash + 1);
}

/** The container to use: the one asked for, else the annotated default, else the first (with kubectl's note when there is a choice). */
export function defaultContainer(pod: P, asked: string | undefined, note: (line: string) => void): string {
  if (asked) return asked;
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && containers.includes(annotated)) return annotated;
  const first = containers[0];
  if (!first) throw new CliError(`pod ${pod.metadata.name} has no containers`);
  if (containers.length > 1) note(`Defaulted container "${first}" out of: ${containers.join(', ')}\n`);
  return first;
}

interface LogsOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail: string;
  since?: string;
  timestamps?: boolean;
  limitBytes?: string;
}

export async function streamLogs(
  session: Session,
  pod: P,
  container: string,
  opts: LogsOptions,
  out: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const q = new URLSearchParams({ container });
  if (opts.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  const tail = Number(opts.tail);
  if (!Number.isInteger(tail)) throw new CliError(`invalid --tail: ${opts.tail}`);
  if (tail >= 0) q.set('tailLines', String(tail));
  if (opts.since) {
    let ms: number;
    try {
      ms = parseDuration(opts.since);
    } catch {
      throw new CliError(`invalid argument "${opts.since}" for "--since" flag: time: invalid duration "${opts.since}"`);
    }
    q.set('sinceSeconds', String(Math.max(1, Math.ceil(ms / 1000))));
  }
  if (opts.timestamps) q.set('timestamps', 'true');
  if (opts.limitBytes) {
    if (!/^\d+$/.test(opts.limitBytes) || Number(opts.limitBytes) < 1) throw new CliError(`invalid --limit-bytes: ${opts.limitBytes}`);
    q.set('limitBytes', opts.limitBytes);
  }
  const res = await session.client().transport.bytes({
    method: 'GET',
    path: resourcePath(PODS, pod.metadata.namespace, pod.metadata.name, 'log'),
    query: q,
    accept: 'application/json, */*',
    ...(signal ? { signal } : {}),
  });
  if (!res.chunks) throw errorFrom(res.status, res.body);
  const decoder = new StringDecoder('utf8');
  for await (const c of res.chunks) out(decoder.write(Buffer.from(c)));
  const rest = decoder.end();
  if (rest) out(rest);
}

export function logsCommand(cli: Cli): Command {
  return new Command('logs')
    .description('print the logs of a container in a pod')
    .argument('<pod>', 'the pod (NAME or pod/NAME)')
    .argument('[container]', 'the container (same as -c)')
    .option('-c, --container <name>', 'the container (default: the only one, or the first)')
    .option('-f, --follow', 'stream the log until the container stops')
    .option('-p, --previous', 'the log of the previous, terminated instance of the container')
    .option('--tail <lines>', 'lines of recent log to show (-1: all)', '-1')
    .option('--since <duration>', 'only logs newer than a relative duration like 5s, 2m or 3h')
    .option('--timestamps', 'prefix each line with its RFC 3339 time')
    .option('--limit-bytes <n>', 'stop after this many bytes')
    .action(async function (this: Command, podArg: string, containerArg: string | undefined) {
      const opts = this.opts<LogsOptions>();
      const session = cli.session(this);
      if (opts.container && containerArg) throw new CliError('only one of -c or an inline [CONTAINER] arg is allowed');
      const pod = await session.client().get<P>(PODS, session.namespace, podName(podArg));
      const container = defaultContainer(pod, opts.container ?? containerArg, (l) => cli.io.err(l));
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      if (opts.follow) process.once('SIGINT', onSignal);
      try {
        await streamLogs(session, pod, container, opts, (t) => cli.io.out(t), abort.signal);
      } finally {
        process.removeListener('SIGINT', onSignal);
      }
    });
}
