/** `kumo up`: the whole control plane in this process, on the embedded store, until SIGINT or SIGTERM. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parsePodSecurityConfig, type PodSecurityConfig } from '../../apiserver/podsecurity/config.js';
import { upsertContext } from '../../client/kubeconfig.js';
import { dockerAnswers, LocalCluster, type LocalClusterOptions } from '../../local/cluster.js';
import { CliError } from '../errors.js';
import type { Cli } from '../session.js';

/** Reads --admission-config (YAML or JSON); any problem is one line, before anything starts. */
function readAdmissionConfig(file: string): PodSecurityConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--admission-config: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parsePodSecurityConfig(parseYaml(text));
  } catch (err) {
    throw new CliError(`--admission-config ${file}: ${(err as Error).message}`);
  }
}

export function upCommand(cli: Cli): Command {
  return new Command('up')
    .description('Run a local cluster (API server, store, controllers) in this process')
    .option('--port <port>', 'API server port (0 picks a free one)', '6443')
    .option('--data-dir <dir>', 'where state is kept', join(homedir(), '.kumo'))
    .option('--no-kubeconfig', 'do not write a kubeconfig context')
    .option('--runtime <runtime>', 'how pods run: docker, process or fake (default: docker when a Docker engine answers, else process)')
    .option('--nodes <n>', 'number of simulated nodes (--runtime fake)', '3')
    .option('--tls', 'serve HTTPS with a self-signed CA and require the bearer token written to the kubeconfig')
    .option('--admission-config <file>', "Pod Security defaults and exemptions: a PodSecurityConfiguration, or kube-apiserver's AdmissionConfiguration file (default: everything privileged)")
    .action(async function (this: Command) {
      const opts = this.opts<{ port: string; dataDir: string; kubeconfig: boolean; runtime?: string; nodes: string; tls?: boolean; admissionConfig?: string }>();
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port: ${opts.port}`);
      if (opts.runtime !== undefined && !['docker', 'process', 'fake'].includes(opts.runtime)) {
        throw new CliError(`invalid --runtime: ${opts.runtime} (docker, process or fake)`);
      }
      const nodes = Number(opts.nodes);
      if (!Number.isInteger(nodes) || nodes < 1) throw new CliError(`invalid --nodes: ${opts.nodes}`);
      const podSecurity = opts.admissionConfig !== undefined ? readAdmissionConfig(opts.admissionConfig) : undefined;
      const out = (line: string) => cli.io.out(`${line}\n`);
      let runtime = opts.runtime;
      if (runtime === undefined) {
        runtime = (await dockerAnswers()) ? 'docker' : 'process';
        out(`kumo: runtime ${runtime}${runtime === 'docker' ? ' (a Docker engine answers)' : ' (no Docker engine answers: pods run as host processes and need a command)'}`);
      } else out(`kumo: runtime ${runtime}`);
      const nodeOpts: Partial<LocalClusterOptions> =
        runtime === 'fake'
          ? { fakeNodes: { names: Array.from({ length: nodes }, (_, i) => `node-${i + 1}`) } }
          : { runtime: runtime as 'docker' | 'process' };
      const cluster = new LocalCluster({ dataDir: opts.dataDir, port, log: out, ...nodeOpts, ...(opts.tls ? { tls: true } : {}), ...(podSecurity ? { podSecurity } : {}) });
      await cluster.start();
      if (opts.kubeconfig) {
        const file = upsertContext(
          { name: 'kumo-local', server: cluster.url, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.adminToken ? { token: cluster.adminToken } : {}) },
          { setCurrent: true, env: cli.io.env },
        );
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
