/**
 * How the CLI reports failures: one plain line per error on stderr, worded as
 * kubectl words them (cmdutil.CheckErr), never a stack trace.
 */
import { StatusError, isInvalid, isUnauthorized } from '../api/errors.js';
import { KubeconfigError } from '../client/kubeconfig.js';

/** A usage or client-side error, printed as `error: <message>`. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Ends the command with an exit code after it has printed what it had to say (`kumo exec` propagating the remote exit code, say). */
export class ExitCodeError extends Error {
  override name = 'ExitCodeError';
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
  }
}

/** Several independent failures (some objects of a `get`, `apply` or `delete` failed); each is reported on its own line. */
export class AggregateCliError extends Error {
  override name = 'AggregateCliError';
  constructor(readonly errors: readonly unknown[]) {
    super(errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
  }
}

/** An error with the object it was about, as kubectl's AddSourceToErr adds `error when creating "file.yaml": `. */
export function withSource(verb: string, source: string | undefined, err: unknown): unknown {
  if (!source) return err;
  if (err instanceof StatusError) {
    const wrapped = new StatusError(err.code, err.reason, `error when ${verb} "${source}": ${err.message}`, err.details);
    return wrapped;
  }
  if (err instanceof Error && !(err instanceof CliError)) return new CliError(`error when ${verb} "${source}": ${err.message}`);
  return err;
}

interface NodeSystemError extends Error {
  code?: string;
  address?: string;
  port?: number;
}

/** StandardErrorMessage: the line for one error, or undefined when kubectl would print `err.Error()` as is. */
function standardMessage(err: unknown, server: string | undefined): string | undefined {
  if (isUnauthorized(err)) return `error: You must be logged in to the server (${err.message})`;
  if (err instanceof StatusError) return err.reason ? `Error from server (${err.reason}): ${err.message}` : `Error from server: ${err.message}`;
  const sys = err as NodeSystemError;
  if (sys instanceof Error && typeof sys.code === 'string') {
    let host = server ?? '';
    try {
      if (server) host = new URL(server).host;
    } catch {
      // keep the raw server string
    }
    if (sys.code === 'ECONNREFUSED') return `The connection to the server ${host} was refused - did you specify the right host or port?`;
    if (
      [
        'ENOTFOUND',
        'ECONNRESET',
        'ETIMEDOUT',
        'EHOSTUNREACH',
        'EAI_AGAIN',
        'CERT_HAS_EXPIRED',
        'DEPTH_ZERO_SELF_SIGNED_CERT',
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        'SELF_SIGNED_CERT_IN_CHAIN',
      ].includes(sys.code)
    ) {
      return `Unable to connect to the server: ${sys.message}`;
    }
  }
  return undefined;
}

function plainMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The lines kubectl prints for an error (checkErr). The result ends with a newline. */
export function formatError(err: unknown, server?: string): string {
  if (err instanceof AggregateCliError && err.errors.length === 1) err = err.errors[0];
  if (err instanceof AggregateCliError) {
    return err.errors.map((e) => `${standardMessage(e, server) ?? plainMessage(e)}\n`).join('');
  }
  if (isInvalid(err)) {
    const d = err.details;
    let s = 'The request is invalid';
    if (!d) return `${s}${err.message ? `: ${err.message}` : ''}\n`;
    if (d.kind || d.name) s = `The ${d.kind ?? ''} ${JSON.stringify(d.name ?? '')} is invalid`;
    else if (err.message && (d.causes ?? []).length === 0) s += `: ${err.message}`;
    const seen = new Set<string>();
    const causes: string[] = [];
    for (const c of d.causes ?? []) {
      const line = `${c.field ?? ''}: ${c.message ?? ''}`;
      if (!seen.has(line)) causes.push(line);
      seen.add(line);
    }
    if (causes.length === 0) return `${s}\n`;
    if (causes.length === 1) return `${s}: ${causes[0]}\n`;
    return `${s}: \n${causes.map((c) => `* ${c}\n`).join('')}`;
  }
  const standard = standardMessage(err, server);
  if (standard) return `${standard}\n`;
  if (err instanceof KubeconfigError || err instanceof CliError || err instanceof Error) {
    const msg = err.message;
    return `${msg.startsWith('error: ') ? msg : `error: ${msg}`}\n`;
  }
  return `error: ${String(err)}\n`;
}
