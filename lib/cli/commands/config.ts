/**
 * `kumo config`: the kubeconfig verbs, local only (view, current-context,
 * use-context, get-contexts, get-clusters, set-context). KUBECONFIG and
 * --kubeconfig are honoured; `view` redacts credentials as kubectl does
 * (tokens and passwords `REDACTED`, key and certificate data
 * `DATA+OMITTED`) unless --raw.
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { type Kubeconfig, type NamedContext, readKubeconfigFile, writeKubeconfigFile } from '../../client/kubeconfig.js';
import { toJsonInOrder, toYaml } from '../../printers/serialize.js';
import { GET_TABWRITER, TabWriter } from '../../printers/tabwriter.js';
import { CliError } from '../errors.js';
import type { Cli, Session } from '../session.js';

const DATA_OMITTED = 'DATA+OMITTED';
const REDACTED = 'REDACTED';

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Orders an object's keys as Go's struct fields are declared, unknown keys last (for `-o json`). */
function ordered(obj: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in obj) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!(k in out)) out[k] = obj[k];
  return out;
}

const CLUSTER_FIELDS = [
  'server',
  'tls-server-name',
  'insecure-skip-tls-verify',
  'certificate-authority',
  'certificate-authority-data',
  'proxy-url',
  'disable-compression',
  'extensions',
];
const USER_FIELDS = [
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'as',
  'as-uid',
  'as-groups',
  'as-user-extra',
  'username',
  'password',
  'auth-provider',
  'exec',
  'extensions',
];
const CONTEXT_FIELDS = ['cluster', 'user', 'namespace', 'extensions'];

interface ViewOptions {
  raw?: boolean;
  minify?: boolean;
  flatten?: boolean;
  output?: string;
}

function viewConfig(cfg: Kubeconfig, s: Session, opts: ViewOptions): string {
  let clusters = [...cfg.clusters].sort(byName);
  let users = [...cfg.users].sort(byName);
  let contexts = [...cfg.contexts].sort(byName);
  let current = s.globals.context ?? cfg['current-context'] ?? '';
  if (opts.minify) {
    if (!current) throw new CliError('current-context must exist in order to minify');
    const ctx = contexts.find((c) => c.name === current);
    if (!ctx) throw new CliError(`cannot locate context ${current}`);
    contexts = [ctx];
    clusters = clusters.filter((c) => c.name === ctx.context.cluster);
    users = users.filter((u) => u.name === ctx.context.user);
  }
  const redact = !opts.raw && !opts.flatten;
  const clusterOut = clusters.map((c) => {
    const cluster: Record<string, unknown> = { ...c.cluster };
    if (redact && cluster['certificate-authority-data']) cluster['certificate-authority-data'] = DATA_OMITTED;
    return { name: c.name, cluster: ordered(cluster, CLUSTER_FIELDS) };
  });
  const userOut = users.map((u) => {
    const user: Record<string, unknown> = { ...u.user };
    if (redact) {
      for (const k of ['client-certificate-data', 'client-key-data']) if (user[k]) user[k] = DATA_OMITTED;
      for (const k of ['token', 'password']) if (user[k]) user[k] = REDACTED;
    }
    return { name: u.name, user: ordered(user, USER_FIELDS) };
  });
  const contextOut = contexts.map((c) => ({ name: c.name, context: ordered({ ...c.context }, CONTEXT_FIELDS) }));
  if (!opts.minify) current = cfg['current-context'] ?? '';
  const preferences = cfg.preferences ?? {};
  const list = <T>(xs: T[]) => (xs.length === 0 ? null : xs);
  if (opts.output === 'json') {
    return toJsonInOrder({
      kind: 'Config',
      apiVersion: 'v1',
      ...(Object.keys(preferences).length > 0 ? { preferences } : {}),
      clusters: list(clusterOut),
      users: list(userOut),
      contexts: list(contextOut),
      'current-context': current,
    });
  }
  if (opts.output && opts.output !== 'yaml')
    throw new CliError(`unable to match a printer suitable for the output format "${opts.output}", allowed formats are: json,yaml`);
  return toYaml({
    apiVersion: 'v1',
    clusters: list(clusterOut),
    contexts: list(contextOut),
    'current-context': current,
    kind: 'Config',
    ...(Object.keys(preferences).length > 0 ? { preferences } : {}),
    users: list(userOut),
  });
}

/** The file a kubeconfig write goes to: the first listed file that exists, else the first listed. */
function fileToWrite(s: Session, holds?: (cfg: Kubeconfig) => boolean): string {
  const paths = s.kubeconfigPaths();
  if (holds) {
    for (const p of paths) if (existsSync(p) && holds(readKubeconfigFile(p))) return p;
  }
  return paths.find((p) => existsSync(p)) ?? paths[0]!;
}

function contextsTable(contexts: NamedContext[], current: string | undefined, headers: boolean): string {
  const tw = new TabWriter(GET_TABWRITER);
  if (headers) tw.write('CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE\n');
  for (const c of contexts) {
    tw.write(`${c.name === current ? '*' : ''}\t${c.name}\t${c.context.cluster ?? ''}\t${c.context.user ?? ''}\t${c.context.namespace ?? ''}\n`);
  }
  return tw.toString();
}

export function configCommand(cli: Cli): Command {
  const config = new Command('config').description('Modify kubeconfig files (KUBECONFIG or --kubeconfig)');

  config
    .command('view')
    .description('Display merged kubeconfig settings, credentials redacted unless --raw')
    .option('--raw', 'show credentials')
    .option('--minify', 'only the current context and what it uses')
    .option('--flatten', 'show the config as one self-contained file (implies --raw)')
    .option('-o, --output <format>', 'yaml (default) or json')
    .action(function (this: Command) {
      const s = cli.session(this);
      s.io.out(viewConfig(s.kubeconfig(), s, this.opts<ViewOptions>()));
    });

  config
    .command('current-context')
    .description('Display the current context')
    .action(function (this: Command) {
      const s = cli.session(this);
      const current = s.kubeconfig()['current-context'];
      if (!current) throw new CliError('current-context is not set');
      s.io.out(`${current}\n`);
    });

  config
    .command('use-context')
    .description('Set the current context')
    .argument('<name>', 'context name')
    .action(function (this: Command, name: string) {
      const s = cli.session(this);
      if (!s.kubeconfig().contexts.some((c) => c.name === name)) throw new CliError(`no context exists with the name: "${name}"`);
      const path = fileToWrite(s, (cfg) => Boolean(cfg['current-context']));
      const file = readKubeconfigFile(path);
      file['current-context'] = name;
      writeKubeconfigFile(path, file);
      s.io.out(`Switched to context "${name}".\n`);
    });

  config
    .command('get-contexts')
    .description('Describe one or many contexts')
    .argument('[names...]', 'contexts to show (default: all)')
    .option('-o, --output <format>', 'name: print only context names')
    .option('--no-headers', 'do not print headers')
    .action(function (this: Command, names: string[]) {
      const s = cli.session(this);
      const opts = this.opts<{ output?: string; headers: boolean }>();
      const cfg = s.kubeconfig();
      const all = [...cfg.contexts].sort(byName);
      const shown = names.length === 0 ? all : all.filter((c) => names.includes(c.name));
      if (opts.output === 'name') {
        for (const c of shown) s.io.out(`${c.name}\n`);
      } else if (opts.output) {
        throw new CliError(`output must be one of '' or 'name': ${opts.output}`);
      } else {
        s.io.out(contextsTable(shown, cfg['current-context'], opts.headers));
      }
      const missing = names.filter((n) => !all.some((c) => c.name === n));
      if (missing.length > 0) throw new CliError(missing.map((n) => `context ${n} not found`).join('\n'));
    });

  config
    .command('get-clusters')
    .description('Display clusters defined in the kubeconfig')
    .action(function (this: Command) {
      const s = cli.session(this);
      s.io.out(
        `NAME\n${[...s.kubeconfig().clusters]
          .sort(byName)
          .map((c) => `${c.name}\n`)
          .join('')}`,
      );
    });

  config
    .command('set-context')
    .description('Set a context entry in kubeconfig (NAME, or --current)')
    .argument('[name]', 'context name')
    .option('--current', 'modify the current context')
    .option('--cluster <cluster>', 'cluster of the context')
    .option('--user <user>', 'user of the context')
    .addHelpText('after', '\n  -n, --namespace <namespace>  default namespace of the context (the global flag)')
    .action(function (this: Command, nameArg: string | undefined) {
      const s = cli.session(this);
      // --namespace is the global flag; here it names the context's namespace rather than selecting one.
      const opts = this.optsWithGlobals<{ current?: boolean; cluster?: string; user?: string; namespace?: string }>();
      let name = nameArg;
      if (opts.current) {
        if (name) throw new CliError('you cannot specify both a context name and --current');
        name = s.kubeconfig()['current-context'];
        if (!name) throw new CliError('no current context is set');
      }
      if (!name) throw new CliError('you must specify a non-empty context name or --current');
      const path = fileToWrite(s, (cfg) => cfg.contexts.some((c) => c.name === name));
      const file = readKubeconfigFile(path);
      const existing = file.contexts.find((c) => c.name === name);
      const ctx: NamedContext = existing ?? { name, context: { cluster: '', user: '' } };
      if (opts.cluster !== undefined) ctx.context.cluster = opts.cluster;
      if (opts.user !== undefined) ctx.context.user = opts.user;
      if (opts.namespace !== undefined) ctx.context.namespace = opts.namespace;
      if (!existing) file.contexts.push(ctx);
      writeKubeconfigFile(path, file);
      s.io.out(`Context "${name}" ${existing ? 'modified' : 'created'}.\n`);
    });

  return config;
}
