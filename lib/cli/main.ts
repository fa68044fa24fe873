/**
 * The `kumo` command line: `up` runs a local cluster; the kubectl-like verbs
 * talk to whichever cluster the kubeconfig's current context names.
 *
 * Each verb lives in its own module under commands/ and exports a factory
 * `(cli: Cli) => Command`; adding a verb is adding it to COMMANDS. Global
 * flags (--kubeconfig, --context, -n) are read through `cli.session(cmd)`.
 * Every failure ends as lines on stderr and exit code 1 (formatError), never
 * a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { applyCommand } from './commands/apply.js';
import { configCommand } from './commands/config.js';
import { deleteCommand } from './commands/delete.js';
import { describeCommand } from './commands/describe.js';
import { getCommand } from './commands/get.js';
import { upCommand } from './commands/up.js';
import { downCommand } from './commands/down.js';
import { agentCommand } from './commands/agent.js';
import { execCommand } from './commands/exec.js';
import { logsCommand } from './commands/logs.js';
import { tokenCommand } from './commands/token.js';
import { kubeconfigCommand } from './commands/kubeconfig.js';
import { rolloutCommand } from './commands/rollout.js';
import { scaleCommand } from './commands/scale.js';
import { cordonCommand, drainCommand, uncordonCommand } from './commands/drain.js';
import { ExitCodeError, formatError } from './errors.js';
import { type CliIO, processIO } from './io.js';
import { Cli } from './session.js';

export { CliError } from './errors.js';

/** The verbs, in the order `kumo --help` lists them. */
const COMMANDS: readonly ((cli: Cli) => Command)[] = [
  upCommand,
  downCommand,
  getCommand,
  describeCommand,
  applyCommand,
  deleteCommand,
  configCommand,
  logsCommand,
  execCommand,
  agentCommand,
  scaleCommand,
  rolloutCommand,
  cordonCommand,
  uncordonCommand,
  drainCommand,
  tokenCommand,
  kubeconfigCommand,
];

export function buildProgram(cli: Cli): Command {
  const program = new Command('kumo')
    .description('kumo: a Kubernetes-compatible orchestrator with a serverless control plane')
    .option('--kubeconfig <file>', 'path to the kubeconfig file (overrides KUBECONFIG)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <namespace>', 'the namespace (default: the context\'s, else "default")')
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => cli.io.out(s), writeErr: (s) => cli.io.err(s) });
  for (const make of COMMANDS) program.addCommand(make(cli));
  // Every (sub)command reports errors through main instead of exiting the process.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => cli.io.out(s), writeErr: (s) => cli.io.err(s) });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const cli = new Cli(io);
  const program = buildProgram(cli);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ExitCodeError) {
      if (err.message) io.err(`${err.message}\n`);
      return err.exitCode;
    }
    io.err(formatError(err, cli.server));
    return 1;
  } finally {
    cli.close();
  }
}
