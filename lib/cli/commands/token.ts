/**
 * `kumo token`: bearer tokens for a cluster that requires them (the cloud).
 *
 * - `create --role admin|view|node [-n NS] [--node NAME] [--ttl 24h]`
 *   makes a token here, stores only its hash through the API (a Secret in
 *   kumo-system; needs a cluster admin's credentials) and prints the token,
 *   with the MAC the server stamped into the record, once: it cannot be read
 *   back. An admin or view token's access is an RBAC binding written beside
 *   it (lib/auth/token-binding.ts); `create --user NAME [--group G]...` makes
 *   a token for that user with no binding, for RBAC objects of one's own.
 * - `list` and `revoke ID...` show and delete token records (and their
 *   bindings).
 * - `enroll` is what a new node runs with the node pool's bootstrap token:
 *   it creates the node's own token and keeps it in a file, reusing the file
 *   on later starts (lib/auth/tokens.ts explains why a node enrolls once).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import type { KObject } from '../../api/object.js';
import { CLUSTER_ROLE_BINDINGS, NODES, ROLE_BINDINGS, SECRETS } from '../../kinds/resources.js';
import { TOKEN_ID_LABEL, tokenBinding } from '../../auth/token-binding.js';
import { isAlreadyExists, isNotFound, isUnauthorized } from '../../api/errors.js';
import {
  type Grant,
  issuedToken,
  mintToken,
  nodeTokenId,
  recordOfSecret,
  ROLE_LABEL,
  ROLES,
  TOKEN_NAMESPACE,
  TOKEN_SECRET_PREFIX,
  tokenSecretName,
} from '../../auth/tokens.js';
import { KubeClient } from '../../client/client.js';
import { HttpTransport } from '../../client/transport.js';
import { rfc3339 } from '../../util/clock.js';
import { CliError } from '../errors.js';
import { readSetting } from '../../config/read.js';
import { SETTINGS } from '../../config/settings.js';
import type { Cli } from '../session.js';

/** `90s`, `30m`, `24h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0) throw new CliError(`invalid duration "${text}": use a number with s, m, h or d (e.g. 24h)`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

interface CreateFlags {
  role?: string;
  user?: string;
  group?: string[];
  namespace?: string;
  node?: string;
  ttl?: string;
  description?: string;
}

function grantOf(f: CreateFlags, now: number): Grant {
  if (f.user !== undefined || f.group !== undefined) return userGrantOf(f, now);
  if (f.role === undefined) throw new CliError('give --role ROLE, or --user NAME for a token RBAC alone authorizes');
  if (!(ROLES as readonly string[]).includes(f.role) || f.role === 'node-bootstrap' || f.role === 'user')
    throw new CliError(`invalid --role "${f.role}": admin, view or node`);
  const role = f.role as Grant['role'];
  if (role === 'node' && !f.node) throw new CliError('a node token needs --node NAME');
  if (role !== 'node' && f.node) throw new CliError('--node is only for --role node');
  if (role === 'node' && f.namespace) throw new CliError('a node token takes no --namespace');
  if (f.namespace === TOKEN_NAMESPACE) throw new CliError(`a token confined to ${TOKEN_NAMESPACE} can do nothing there: only cluster admins may`);
  return {
    role,
    ...(role !== 'node' ? { bound: true } : {}),
    ...(f.namespace ? { namespace: f.namespace } : {}),
    ...(f.node ? { node: f.node } : {}),
    ...common(f, now),
  };
}

function common(f: CreateFlags, now: number): Pick<Grant, 'expiresAt' | 'description'> {
  return { ...(f.ttl ? { expiresAt: rfc3339(now + parseDuration(f.ttl)) } : {}), ...(f.description ? { description: f.description } : {}) };
}

/** `--user NAME [--group G]...`: a user and groups, no binding. */
function userGrantOf(f: CreateFlags, now: number): Grant {
  if (f.role !== undefined) throw new CliError('give --role or --user, not both');
  if (!f.user) throw new CliError('--group needs --user NAME');
  if (f.node) throw new CliError('--node is only for --role node');
  if (f.namespace) throw new CliError('a --user token takes no --namespace: bind it where it may act with a RoleBinding');
  if (f.user.startsWith('system:')) throw new CliError(`invalid --user "${f.user}": names starting with system: are reserved for the cluster`);
  if ((f.group ?? []).includes('system:masters')) throw new CliError('a --user token may not join system:masters: use --role admin');
  return { role: 'user', user: f.user, ...(f.group?.length ? { groups: f.group } : {}), ...common(f, now) };
}

/** The binding of a bound token, with its handle. */
function bindingOf(id: string, grant: Grant) {
  const obj = tokenBinding(id, grant);
  return { obj, rt: grant.namespace ? ROLE_BINDINGS : CLUSTER_ROLE_BINDINGS, namespace: grant.namespace };
}

/** Deletes the bindings `kumo token create` wrote for token `id` (none for older tokens). */
async function deleteBindings(client: KubeClient, id: string): Promise<void> {
  const named = [
    ...(await client.listAll(CLUSTER_ROLE_BINDINGS, undefined, { labelSelector: `${TOKEN_ID_LABEL}=${id}` })).items,
    ...(await client.listAll(ROLE_BINDINGS, undefined, { labelSelector: `${TOKEN_ID_LABEL}=${id}` })).items,
  ];
  for (const b of named) {
    try {
      await client.delete(b.metadata.namespace ? ROLE_BINDINGS : CLUSTER_ROLE_BINDINGS, b.metadata.namespace, b.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function writeTokenFile(path: string, token: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

interface EnrollFlags {
  server: string;
  bootstrapToken?: string;
  nodeName: string;
  tokenFile: string;
  insecureSkipTlsVerify?: boolean;
}

/**
 * Makes sure `tokenFile` holds a working token for the node: an existing file
 * is checked against the API, a missing one is filled by enrolling with the
 * bootstrap token. Returns what it did.
 */
export async function enrollNode(f: EnrollFlags, bootstrapToken: string | undefined): Promise<'existing' | 'enrolled'> {
  const transport = (token: string) =>
    new KubeClient(
      new HttpTransport({ server: f.server, token, userAgent: 'kumo-enroll/0.1.0', ...(f.insecureSkipTlsVerify ? { insecureSkipTLSVerify: true } : {}) }),
    );
  if (existsSync(f.tokenFile)) {
    const token = readFileSync(f.tokenFile, 'utf8').trim();
    try {
      await transport(token).find(NODES, undefined, f.nodeName);
      return 'existing';
    } catch (err) {
      if (isUnauthorized(err)) {
        throw new CliError(
          `the token in ${f.tokenFile} is no longer accepted (revoked?): remove the file and revoke ${nodeTokenId(f.nodeName)} to enroll node ${f.nodeName} again`,
        );
      }
      throw err;
    }
  }
  if (!bootstrapToken) throw new CliError(`no token in ${f.tokenFile} and no bootstrap token (--bootstrap-token or KUMO_BOOTSTRAP_TOKEN) to enroll with`);
  const minted = mintToken({ role: 'node', node: f.nodeName, description: `enrolled ${rfc3339(Date.now())}` });
  let stored: KObject;
  try {
    stored = await transport(bootstrapToken).create(SECRETS, TOKEN_NAMESPACE, minted.secret);
  } catch (err) {
    if (isAlreadyExists(err)) {
      throw new CliError(
        `node ${f.nodeName} is already enrolled and its token is not in ${f.tokenFile}: an admin can run \`kumo token revoke ${minted.id}\` to let it enroll again`,
      );
    }
    throw err;
  }
  writeTokenFile(f.tokenFile, issuedToken(minted, stored));
  return 'enrolled';
}

export function tokenCommand(cli: Cli): Command {
  const token = new Command('token').description('manage bearer tokens (clusters that require them: the cloud)');

  token
    .command('create')
    .description('create a token and print it (only its hash is stored: keep it, it cannot be shown again)')
    .option('--role <role>', 'admin, view or node (-n/--namespace NS confines an admin or view token to one namespace); a binding grants it')
    .option('--user <name>', 'instead of --role: a token for this user, with no binding (RBAC objects of your own decide)')
    .option('--group <group>', 'with --user: a group the user is in (repeatable)', (g: string, prev: string[] | undefined) => [...(prev ?? []), g])
    .option('--node <name>', 'the node a node token acts for')
    .option('--ttl <duration>', 'expire after this long (e.g. 12h, 30d)')
    .option('--description <text>', 'what the token is for')
    .action(async function (this: Command) {
      // The namespace is kumo's global -n/--namespace, honoured only when given (not the context's default).
      const f = this.optsWithGlobals<CreateFlags>();
      const grant = grantOf(f, Date.now());
      const minted = mintToken(grant);
      const client = cli.session(this).client();
      let stored: KObject;
      try {
        stored = await client.create(SECRETS, TOKEN_NAMESPACE, minted.secret);
      } catch (err) {
        if (isAlreadyExists(err) && grant.role === 'node') {
          throw new CliError(`node ${grant.node} already has a token: revoke ${minted.id} first`);
        }
        throw err;
      }
      if (grant.bound) {
        const b = bindingOf(minted.id, grant);
        try {
          await client.create(b.rt, b.namespace, b.obj);
        } catch (err) {
          // A token without its binding would authenticate and be refused everything: take the record back.
          await client.delete(SECRETS, TOKEN_NAMESPACE, minted.secret.metadata.name!).catch(() => undefined);
          throw err;
        }
      }
      const what =
        grant.role === 'user'
          ? `user ${grant.user}${grant.groups ? `, groups ${grant.groups.join(',')}` : ''}`
          : `role ${grant.role}${grant.namespace ? `, namespace ${grant.namespace}` : ''}${grant.node ? `, node ${grant.node}` : ''}`;
      cli.io.err(`token ${minted.id} created (${what}${grant.expiresAt ? `, expires ${grant.expiresAt}` : ''})\n`);
      cli.io.out(`${issuedToken(minted, stored)}\n`);
    });

  token
    .command('list')
    .description('list token records (never the tokens themselves)')
    .action(async function (this: Command) {
      const client = cli.session(this).client();
      const list = await client.listAll(SECRETS, TOKEN_NAMESPACE, { labelSelector: ROLE_LABEL });
      const rows = [['ID', 'ROLE', 'NAMESPACE', 'NODE', 'EXPIRES', 'DESCRIPTION']];
      for (const item of list.items as KObject[]) {
        const r = recordOfSecret(item);
        if (!r) continue;
        rows.push([
          r.id,
          r.grant.role === 'user' ? `user ${r.grant.user ?? ''}` : r.grant.role,
          r.grant.namespace ?? '<all>',
          r.grant.node ?? '',
          r.grant.expiresAt ?? '<never>',
          r.grant.description ?? '',
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
      for (const row of rows)
        cli.io.out(
          `${row
            .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3)))
            .join('')
            .trimEnd()}\n`,
        );
    });

  token
    .command('revoke')
    .description('delete token records and their bindings; a warm API server forgets a revoked token within 10 s')
    .argument('<id...>', 'token ids (the part before the dot)')
    .action(async function (this: Command, ids: string[]) {
      const client = cli.session(this).client();
      for (const id of ids) {
        if (id.startsWith(TOKEN_SECRET_PREFIX)) throw new CliError(`give the token id, not the Secret name: ${id.slice(TOKEN_SECRET_PREFIX.length)}`);
        try {
          await client.delete(SECRETS, TOKEN_NAMESPACE, tokenSecretName(id));
        } catch (err) {
          if (isNotFound(err)) throw new CliError(`token ${id} not found`);
          throw err;
        }
        await deleteBindings(client, id);
        cli.io.out(`token ${id} revoked\n`);
      }
    });

  token
    .command('enroll')
    .description("get this node's own token with the node pool's bootstrap token, once, and keep it in a file")
    .requiredOption('--server <url>', 'the API server')
    .requiredOption('--node-name <name>', 'the node to enroll')
    .requiredOption('--token-file <file>', 'where the node token is kept (reused when present)')
    .option('--bootstrap-token <token>', 'the bootstrap token (or KUMO_BOOTSTRAP_TOKEN)')
    .option('--insecure-skip-tls-verify', "do not verify the API server's certificate")
    .action(async function (this: Command) {
      const f = this.opts<EnrollFlags>();
      const outcome = await enrollNode(f, f.bootstrapToken ?? readSetting(cli.io.env, SETTINGS.bootstrapToken));
      cli.io.out(
        outcome === 'enrolled' ? `node ${f.nodeName} enrolled: token written to ${f.tokenFile}\n` : `node ${f.nodeName}: using the token in ${f.tokenFile}\n`,
      );
    });

  return token;
}
