/** Where the CDK app finds the project's sources, wherever it is run from. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is cdk/paths.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
