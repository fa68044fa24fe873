/**
 * `kumo up`: the whole control plane in this process, on the embedded store,
 * until SIGINT or SIGTERM. It serves HTTPS with its own CA and a bearer
 * token, both written into the kubeconfig; `--insecure-http` serves plain
 * HTTP on loopback instead (lib/local/loopback-guard.ts). Stopping it stops
 * the pods it runs, each within its grace period, unless `--keep-pods`.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parsePodSecurityConfig, type PodSecurityConfig } from '../../apiserver/podsecurity/config.js';
import { processRuntimeWarning } from '../../agent/process-runtime.js';
import { upsertContext } from '../../client/kubeconfig.js';
import { dockerAnswers, LocalCluster, type LocalClusterOptions } from '../../local/cluster.js';
import { isLoopbackAddress } from '../../local/loopback-guard.js';
import { flagOf, logLevelOf, parseFlag, readSetting } from '../../config/read.js';
import { SETTINGS } from '../../config/settings.js';
import { port as portType, positiveInteger, type ValueType } from '../../config/values.js';
import { parseQuantity } from '../../api/quantity.js';
import { SIM_EPHEMERAL_STORAGE } from '../../sim/fake-nodes.js';
import { jsonLogger } from '../../log/logger.js';
import { CliError } from '../errors.js';
import type { Cli } from '../session.js';

/** A resource quantity as a Node reports it (`100Gi`), kept as written. */
const quantity: ValueType<string> = {
  expected: 'a non-negative quantity such as 100Gi',
  schema: z.string().refine((q) => (parseQuantity(q) ?? -1) >= 0, { error: 'a non-negative quantity such as 100Gi' }),
};

interface UpFlags {
  port: string;
  address: string;
  dataDir: string;
  kubeconfig: boolean;
  runtime?: string;
  nodes: string;
  ephemeralStorage: string;
  insecureHttp?: boolean;
  tls?: boolean;
  keepPods?: boolean;
  admissionConfig?: string;
  clusterDns?: string;
  logLevel?: string;
}

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
  return (
    new Command('up')
      .description('Run a local cluster (API server, store, controllers) in this process')
      .option('--port <port>', 'API server port (0 picks a free one)', '6443')
      .option('--address <ip>', 'the address the API server listens on (a loopback one with --insecure-http)', '127.0.0.1')
      .option('--data-dir <dir>', 'where state is kept', join(homedir(), '.kumo'))
      .option('--no-kubeconfig', 'do not write a kubeconfig context')
      .option('--runtime <runtime>', 'how pods run: docker, process or fake (default: docker when a Docker engine answers, else process)')
      .option('--nodes <n>', 'number of simulated nodes (--runtime fake)', '3')
      .option('--ephemeral-storage <quantity>', 'ephemeral-storage each simulated node reports (--runtime fake)', SIM_EPHEMERAL_STORAGE)
      .option(
        '--insecure-http',
        'serve plain HTTP without authentication, on loopback only, refusing requests from web pages (default: HTTPS with a bearer token)',
      )
      .option('--keep-pods', 'leave the pods running when stopped (the next kumo up on this data dir adopts them; kumo down stops them)')
      // HTTPS was opt-in once: the flag is still accepted and changes nothing.
      .addOption(new Option('--tls', 'serve HTTPS (the default)').hideHelp())
      .option(
        '--admission-config <file>',
        "Pod Security defaults and exemptions: a PodSecurityConfiguration, or kube-apiserver's AdmissionConfiguration file (default: everything privileged)",
      )
      .option(
        '--cluster-dns <ip|none>',
        "where the cluster DNS server listens (port 53, docker runtime) and what pods' resolv.conf names; none: no server (default: KUMO_CLUSTER_DNS, else 169.254.20.10)",
      )
      .option(
        '--log-level <level>',
        'the least severe log records written, as JSON on stderr: debug, info, warn or error (default: POWERTOOLS_LOG_LEVEL or LOG_LEVEL, else info)',
      )
      .action(async function (this: Command) {
        const opts = this.opts<UpFlags>();
        const port = parseFlag('--port', portType, opts.port);
        const runtimeFlag = opts.runtime !== undefined ? flagOf(SETTINGS.runtime, opts.runtime) : undefined;
        const nodes = parseFlag('--nodes', positiveInteger, opts.nodes);
        const ephemeralStorage = parseFlag('--ephemeral-storage', quantity, opts.ephemeralStorage);
        const logger = jsonLogger({ service: 'kumo', level: logLevelOf(cli.io.env, opts.logLevel), sink: (line) => cli.io.err(`${line}\n`) });
        if (opts.tls && opts.insecureHttp) throw new CliError('--tls and --insecure-http contradict each other (HTTPS is the default)');
        if (opts.insecureHttp && !isLoopbackAddress(opts.address)) {
          throw new CliError(
            `--insecure-http serves without authentication, so only on a loopback address: ${opts.address} is not one (use 127.0.0.1, ::1 or localhost)`,
          );
        }
        const clusterDns = opts.clusterDns !== undefined ? flagOf(SETTINGS.clusterDns, opts.clusterDns) : readSetting(cli.io.env, SETTINGS.clusterDns);
        const podSecurity = opts.admissionConfig !== undefined ? readAdmissionConfig(opts.admissionConfig) : undefined;
        const out = (line: string) => cli.io.out(`${line}\n`);
        let runtime = runtimeFlag;
        if (runtime === undefined) {
          runtime = (await dockerAnswers()) ? 'docker' : 'process';
          out(
            `kumo: runtime ${runtime}${runtime === 'docker' ? ' (a Docker engine answers)' : ' (no Docker engine answers: pods run as host processes and need a command)'}`,
          );
        } else out(`kumo: runtime ${runtime}`);
        if (runtime === 'process') for (const line of processRuntimeWarning(userInfo().username)) out(`kumo: ${line}`);
        const nodeOpts: Partial<LocalClusterOptions> =
          runtime === 'fake'
            ? { fakeNodes: { names: Array.from({ length: nodes }, (_, i) => `node-${i + 1}`), capacity: { 'ephemeral-storage': ephemeralStorage } } }
            : { runtime };
        const cluster = new LocalCluster({
          dataDir: opts.dataDir,
          port,
          host: opts.address,
          print: out,
          logger,
          ...nodeOpts,
          ...(opts.insecureHttp ? { insecureHttp: true } : {}),
          ...(podSecurity ? { podSecurity } : {}),
          dns: clusterDns === false ? false : { address: clusterDns },
        });
        await cluster.start();
        if (opts.kubeconfig) {
          const file = upsertContext(
            {
              name: 'kumo-local',
              server: cluster.url,
              ...(cluster.caData ? { caData: cluster.caData } : {}),
              ...(cluster.adminToken ? { token: cluster.adminToken } : {}),
            },
            { setCurrent: true, env: cli.io.env },
          );
          out(`kumo: kubeconfig context "kumo-local" written to ${file} (current context)`);
        }
        out('kumo: ready. Press Ctrl-C to stop.');
        const stopsPods = runtime !== 'fake' && !opts.keepPods;
        let received: NodeJS.Signals | undefined;
        const onSignal = (sig: NodeJS.Signals) => {
          if (received) {
            // A second signal does not wait for grace periods: what still runs is left for `kumo down`.
            out(`kumo: ${sig} received again, exiting now; kumo down --data-dir ${opts.dataDir} stops what is left`);
            process.exit(sig === 'SIGINT' ? 130 : 143);
          }
          received = sig;
          out(`kumo: ${sig} received, shutting down${stopsPods ? ' (a second Ctrl-C exits at once, leaving the pods running)' : ''}`);
        };
        await new Promise<void>((resolve) => {
          const handler = (sig: NodeJS.Signals) => {
            onSignal(sig);
            resolve();
          };
          process.on('SIGINT', handler);
          process.on('SIGTERM', handler);
        });
        await cluster.stop({ keepPods: !!opts.keepPods });
        out(opts.keepPods && runtime !== 'fake' ? `kumo: stopped; the pods keep running (kumo down --data-dir ${opts.dataDir} stops them)` : 'kumo: stopped');
      })
  );
}
