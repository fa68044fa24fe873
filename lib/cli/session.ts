/**
 * What every cluster-facing command needs: the kubeconfig (`--kubeconfig`
 * overrides KUBECONFIG), the context (`--context` overrides the current one),
 * the namespace (`-n`, else the context's, else `default`) and a KubeClient
 * over HTTP(S). Built lazily, so `kumo config` and `kumo up` never touch the
 * network.
 */
import type { Command } from 'commander';
import { KubeClient } from '../client/client.js';
import { type Kubeconfig, kubeconfigPaths, loadKubeconfig, type ResolvedContext, resolveContext } from '../client/kubeconfig.js';
import { HttpTransport } from '../client/transport.js';
import type { CliIO } from './io.js';

export const USER_AGENT = 'kumo/0.1.0';

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export class Session {
  private resolvedContext: ResolvedContext | undefined;
  private transport: HttpTransport | undefined;
  private kubeClient: KubeClient | undefined;

  constructor(
    readonly io: CliIO,
    readonly globals: GlobalOptions,
  ) {}

  /** The environment kubeconfig lookups use: `--kubeconfig` replaces KUBECONFIG. */
  get env(): NodeJS.ProcessEnv {
    return this.globals.kubeconfig ? { ...this.io.env, KUBECONFIG: this.globals.kubeconfig } : this.io.env;
  }

  kubeconfigPaths(): string[] {
    return kubeconfigPaths(this.env);
  }

  kubeconfig(): Kubeconfig {
    return loadKubeconfig(this.env);
  }

  context(): ResolvedContext {
    this.resolvedContext ??= resolveContext(this.kubeconfig(), this.globals.context);
    return this.resolvedContext;
  }

  /** True when `-n` was given: manifests in another namespace are then refused, as kubectl does. */
  get namespaceExplicit(): boolean {
    return Boolean(this.globals.namespace);
  }

  get namespace(): string {
    return this.globals.namespace || this.context().namespace;
  }

  /** The API server URL, once a client was made (for connection error messages). */
  get server(): string | undefined {
    return this.resolvedContext?.transport.server;
  }

  client(): KubeClient {
    if (!this.kubeClient) {
      // Server warnings go to stderr once each, as kubectl's warning handler prints them.
      const seen = new Set<string>();
      const onWarning = (text: string) => {
        if (seen.has(text)) return;
        seen.add(text);
        this.io.err(`Warning: ${text}\n`);
      };
      this.transport = new HttpTransport({ ...this.context().transport, userAgent: USER_AGENT, onWarning });
      this.kubeClient = new KubeClient(this.transport);
    }
    return this.kubeClient;
  }

  close(): void {
    this.transport?.close();
  }
}

/**
 * Creates sessions for commands and closes them when the CLI ends. Commands
 * get the global flags from commander (`optsWithGlobals`), so `-n` works
 * before or after the verb.
 */
export class Cli {
  private readonly sessions: Session[] = [];

  constructor(readonly io: CliIO) {}

  session(cmd: Command): Session {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const s = new Session(this.io, { kubeconfig: g.kubeconfig, context: g.context, namespace: g.namespace });
    this.sessions.push(s);
    return s;
  }

  /** The server of the most recent session that made a client. */
  get server(): string | undefined {
    for (let i = this.sessions.length - 1; i >= 0; i--) {
      const s = this.sessions[i]!.server;
      if (s) return s;
    }
    return undefined;
  }

  close(): void {
    for (const s of this.sessions) s.close();
  }
}
