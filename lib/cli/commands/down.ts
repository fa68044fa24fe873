/** `kumo down`: stops what a crashed (or --keep-pods) `kumo up` left running, for one data directory's cluster. */
import { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DownError, downCluster } from '../../local/down.js';
import { CliError } from '../errors.js';
import type { Cli } from '../session.js';

export function downCommand(cli: Cli): Command {
  return new Command('down')
    .description('Stop the pods a kumo up left running (its host processes and Docker containers), after a crash or --keep-pods')
    .option('--data-dir <dir>', 'the data directory of that kumo up', join(homedir(), '.kumo'))
    .action(async function (this: Command) {
      const { dataDir } = this.opts<{ dataDir: string }>();
      const out = (line: string) => cli.io.out(`${line}\n`);
      let report;
      try {
        report = await downCluster(dataDir, { print: out });
      } catch (err) {
        if (err instanceof DownError) throw new CliError(err.message);
        throw err;
      }
      out(
        report.stopped + report.removed === 0
          ? `kumo down: nothing left of the cluster in ${dataDir}`
          : `kumo down: ${report.stopped} stopped, ${report.removed} removed, of the cluster in ${dataDir}`,
      );
    });
}
