/**
 * The `kumo` command line: `up` runs a local cluster; the kubectl-like verbs
 * talk to whichever cluster the kubeconfig's current context names.
 */
import { Command, CommanderError } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { upsertContext } from '../client/kubeconfig.js';
import { LocalCluster } from '../local/cluster.js';

export class CliError extends Error {
  override name = 'CliError';
}

function upCommand(): Command {
  return new Command('up')
    .description('run a local cluster (API server, store, controllers) in this process')
    .option('--port <port>', 'API server port', '6443')
    .option('--data-dir <dir>', 'where state is kept', join(homedir(), '.kumo'))
    .option('--no-kubeconfig', 'do not write a kubeconfig context')
    .action(async (opts: { port: string; dataDir: string; kubeconfig: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port: ${opts.port}`);
      const cluster = new LocalCluster({ dataDir: opts.dataDir, port });
      await cluster.start();
      if (opts.kubeconfig) {
        const file = upsertContext({ name: 'kumo-local', server: cluster.url });
        console.log(`kumo: kubeconfig context "kumo-local" written to ${file} (current context)`);
      }
      console.log('kumo: ready. Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          console.log(`kumo: ${sig} received, shutting down`);
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await cluster.stop();
      console.log('kumo: stopped');
    });
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('kumo')
    .description('kumo: a Kubernetes-compatible orchestrator with a serverless control plane')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.addCommand(upCommand());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    return 1;
  }
}
