/**
 * Reading and writing kubeconfig files the way kubectl does: `KUBECONFIG` may
 * list several files (the first that sets a value wins; writes go to the
 * first file), else ~/.kube/config.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import type { HttpTransportOptions } from './transport.js';

export interface NamedCluster {
  name: string;
  cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean };
}
export interface NamedUser {
  name: string;
  user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string; [k: string]: unknown };
}
export interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  'current-context'?: string;
  preferences?: Record<string, unknown>;
  [extra: string]: unknown;
}

export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

export function kubeconfigPaths(env: Env = process.env): string[] {
  const raw = readSetting(env, SETTINGS.kubeconfig);
  if (raw) return raw.split(delimiter).filter((p) => p !== '');
  return [join(readSetting(env, SETTINGS.home) ?? homedir(), '.kube', 'config')];
}

function empty(): Kubeconfig {
  return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], preferences: {} };
}

export function readKubeconfigFile(path: string): Kubeconfig {
  if (!existsSync(path)) return empty();
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return empty();
  if (typeof doc !== 'object') throw new KubeconfigError(`kubeconfig ${path} is not a Config object`);
  const cfg = doc as Partial<Kubeconfig>;
  return { ...empty(), ...cfg, clusters: cfg.clusters ?? [], users: cfg.users ?? [], contexts: cfg.contexts ?? [] };
}

/** The merged view of every file in KUBECONFIG; the first file to define a name wins. */
export function loadKubeconfig(env: Env = process.env): Kubeconfig {
  const merged = empty();
  for (const path of kubeconfigPaths(env)) {
    const cfg = readKubeconfigFile(path);
    for (const c of cfg.clusters) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
    for (const u of cfg.users) if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u);
    for (const c of cfg.contexts) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
    if (!merged['current-context'] && cfg['current-context']) merged['current-context'] = cfg['current-context'];
  }
  return merged;
}

export function writeKubeconfigFile(path: string, cfg: Kubeconfig): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.kumo-${process.pid}.tmp`;
  writeFileSync(tmp, stringify(cfg), { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Adds or replaces one cluster/user/context triple in the first kubeconfig
 * file, keeping everything else. Returns the file written.
 */
export function upsertContext(
  entry: { name: string; server: string; caData?: string; token?: string },
  opts: { setCurrent: boolean; env?: Env } = { setCurrent: true },
): string {
  const path = kubeconfigPaths(opts.env)[0]!;
  const cfg = readKubeconfigFile(path);
  const replace = <T extends { name: string }>(list: T[], item: T) => {
    const i = list.findIndex((x) => x.name === item.name);
    if (i >= 0) list[i] = item;
    else list.push(item);
  };
  replace(cfg.clusters, {
    name: entry.name,
    cluster: { server: entry.server, ...(entry.caData ? { 'certificate-authority-data': entry.caData } : {}) },
  });
  replace(cfg.users, { name: entry.name, user: entry.token ? { token: entry.token } : {} });
  replace(cfg.contexts, { name: entry.name, context: { cluster: entry.name, user: entry.name } });
  if (opts.setCurrent) cfg['current-context'] = entry.name;
  writeKubeconfigFile(path, cfg);
  return path;
}

export interface ResolvedContext {
  contextName: string;
  namespace: string;
  transport: HttpTransportOptions;
}

/** Resolves a context (the current one unless named) to what an HTTP transport needs. */
export function resolveContext(cfg: Kubeconfig, contextName?: string): ResolvedContext {
  const name = contextName ?? cfg['current-context'];
  if (!name) throw new KubeconfigError('no context is set: run `kumo up` or `kumo config use-context NAME`');
  const ctx = cfg.contexts.find((c) => c.name === name);
  if (!ctx) throw new KubeconfigError(`context "${name}" does not exist`);
  const cluster = cfg.clusters.find((c) => c.name === ctx.context.cluster);
  if (!cluster) throw new KubeconfigError(`cluster "${ctx.context.cluster}" of context "${name}" does not exist`);
  const user = cfg.users.find((u) => u.name === ctx.context.user)?.user ?? {};
  const c = cluster.cluster;
  const ca = c['certificate-authority-data']
    ? Buffer.from(c['certificate-authority-data'], 'base64')
    : c['certificate-authority']
      ? readFileSync(c['certificate-authority'])
      : undefined;
  return {
    contextName: name,
    namespace: ctx.context.namespace ?? 'default',
    transport: {
      server: c.server,
      ...(user.token ? { token: user.token } : {}),
      ...(ca ? { ca } : {}),
      ...(user['client-certificate-data'] ? { cert: Buffer.from(user['client-certificate-data'], 'base64') } : {}),
      ...(user['client-key-data'] ? { key: Buffer.from(user['client-key-data'], 'base64') } : {}),
      ...(c['insecure-skip-tls-verify'] ? { insecureSkipTLSVerify: true } : {}),
    },
  };
}
