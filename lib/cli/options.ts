/** Small helpers for commander options shared by the verbs. */

/** Collects a repeatable option (`-f a -f b`) into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--dry-run[=none|server|client]`; a bare flag means client, as kubectl's deprecated form did. */
export type DryRun = 'none' | 'server' | 'client';

export function parseDryRun(value: string | boolean | undefined): DryRun {
  if (value === undefined || value === false || value === 'none' || value === 'false') return 'none';
  if (value === true || value === 'client' || value === 'true') return 'client';
  if (value === 'server') return 'server';
  throw new Error(`Invalid dry-run value (${String(value)}). Must be "none", "server", or "client".`);
}

export function dryRunSuffix(d: DryRun): string {
  return d === 'server' ? ' (server dry run)' : d === 'client' ? ' (dry run)' : '';
}
