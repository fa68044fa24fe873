/** `kumo up`: the whole control plane in this process, on the embedded store, until SIGINT or SIGTERM. */
import { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { upsertContext } from '../../client/kubeconfig.js';
import { LocalCluster } from '../../local/cluster.js';
import { CliError } from '../errors.js';
import type { Cli } from '../session.js';

export function upCommand(cli: Cli): Command {
  return new Command('up')
    .description('Run a local cluster (API server, store, controllers) in this process')
    .option('--port <port>', 'API server port (0 picks a free one)', '6443')
    .option('--data-dir <dir>', 'where state is kept', join(homedir(), '.kumo'))
    .option('--no-kubeconfig', 'do not write a kubeconfig context')
    .action(async function (this: Command) {
      const opts = this.opts<{ port: string; dataDir: string; kubeconfig: boolean }>();
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port: ${opts.port}`);
      const out = (line: string) => cli.io.out(`${line}\n`);
      const cluster = new LocalCluster({ dataDir: opts.dataDir, port, log: out });
      await cluster.start();
      if (opts.kubeconfig) {
        const file = upsertContext({ name: 'kumo-local', server: cluster.url }, { setCurrent: true, env: cli.io.env });
        out(`kumo: kubeconfig context "kumo-local" written to ${file} (current context)`);
      }
      out('kumo: ready. Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          out(`kumo: ${sig} received, shutting down`);
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await cluster.stop();
      out('kumo: stopped');
    });
}
