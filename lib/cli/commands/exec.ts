/**
 * `kumo exec [-i] [-t] POD [-c C] -- COMMAND [ARG...]`: runs a command in a
 * running container through the API server's `pods/{name}/exec` WebSocket
 * (`v5.channel.k8s.io`, what kubectl speaks), and exits with the command's
 * exit code (printing `command terminated with exit code N` as kubectl does).
 */
import { StringDecoder } from 'node:string_decoder';
import { Command } from 'commander';
import { execOverWebSocket, execQuery } from '../../client/exec-channel.js';
import type { ExecIO } from '../../api/pod-connector.js';
import type { Pod } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import { resourcePath } from '../../client/client.js';
import { AsyncQueue } from '../../util/async-queue.js';
import { CliError, ExitCodeError } from '../errors.js';
import { processIO } from '../io.js';
import type { Cli } from '../session.js';
import { defaultContainer, podName } from './logs.js';
import { PODS } from '../../kinds/resources.js';

type P = Pod & KObject;

interface ExecOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  quiet?: boolean;
}

export function execCommand(cli: Cli): Command {
  return new Command('exec')
    .description('run a command in a container')
    .usage('[-i] [-t] POD [-c CONTAINER] -- COMMAND [args...]')
    .argument('<pod>', 'the pod (NAME or pod/NAME)')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'the container (default: the only one, or the first)')
    .option('-i, --stdin', 'pass stdin to the container')
    .option('-t, --tty', 'stdin is a TTY')
    .option('-q, --quiet', 'print only what the command prints')
    .action(async function (this: Command, podArg: string, command: string[]) {
      const opts = this.opts<ExecOptions>();
      if (command.length === 0) throw new CliError('you must specify at least one command for the container');
      const session = cli.session(this);
      const pod = await session.client().get<P>(PODS, session.namespace, podName(podArg));
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') throw new CliError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
      const container = defaultContainer(pod, opts.container, (l) => {
        if (!opts.quiet) cli.io.err(l);
      });
      const interactive = cli.io === processIO;
      const tty = !!opts.tty && (!interactive || !!process.stdin.isTTY);
      if (opts.tty && !tty && !opts.quiet) cli.io.err('Unable to use a TTY - input is not a terminal or the right kind of file\n');
      const params = { command, container, stdin: !!opts.stdin, stdout: true, stderr: !tty, tty };
      const ctx = session.context().transport;
      const url = new URL(ctx.server);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.pathname = url.pathname.replace(/\/$/, '') + resourcePath(PODS, pod.metadata.namespace, pod.metadata.name, 'exec');
      url.search = execQuery(params).toString();

      const outDecoder = new StringDecoder('utf8');
      const errDecoder = new StringDecoder('utf8');
      const io: ExecIO = {
        stdout: (c) => cli.io.out(outDecoder.write(Buffer.from(c))),
        stderr: (c) => cli.io.err(errDecoder.write(Buffer.from(c))),
      };
      const cleanup: (() => void)[] = [];
      if (params.stdin) {
        if (interactive) {
          if (tty) {
            process.stdin.setRawMode(true);
            cleanup.push(() => process.stdin.setRawMode(false));
          }
          const queue = new AsyncQueue<Uint8Array>();
          const onData = (c: Buffer) => queue.push(c);
          process.stdin.on('data', onData);
          process.stdin.once('end', () => queue.close());
          cleanup.push(() => {
            process.stdin.removeListener('data', onData);
            process.stdin.pause();
          });
          io.stdin = queue;
        } else {
          const text = await cli.io.readStdin();
          io.stdin = (async function* () {
            if (text) yield Buffer.from(text);
          })();
        }
      }
      if (tty && interactive && process.stdout.isTTY) {
        const sizes = new AsyncQueue<{ width: number; height: number }>();
        const push = () => sizes.push({ width: process.stdout.columns, height: process.stdout.rows });
        push();
        process.stdout.on('resize', push);
        cleanup.push(() => {
          process.stdout.removeListener('resize', push);
          sizes.close();
        });
        io.resize = sizes;
      }
      let code: number;
      try {
        code = await execOverWebSocket(
          url.toString(),
          {
            headers: { 'user-agent': 'kumo/0.1.0', ...(ctx.token ? { authorization: `Bearer ${ctx.token}` } : {}) },
            ...(ctx.ca ? { ca: ctx.ca } : {}),
            ...(ctx.cert ? { cert: ctx.cert } : {}),
            ...(ctx.key ? { key: ctx.key } : {}),
            ...(ctx.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
          },
          io,
        );
      } finally {
        for (const f of cleanup) f();
      }
      const restOut = outDecoder.end();
      if (restOut) cli.io.out(restOut);
      const restErr = errDecoder.end();
      if (restErr) cli.io.err(restErr);
      if (code !== 0) throw new ExitCodeError(code, opts.quiet ? '' : `command terminated with exit code ${code}`);
    });
}
