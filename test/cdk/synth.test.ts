/**
 * `npx cdk synth` as a user runs it, with no AWS credentials, no AWS
 * configuration and no network: the app synthesizes, bundles the three
 * functions with the local esbuild, and stages the agent image's build
 * context (the Dockerfile and what it copies, nothing else).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'kumo-synth-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npx cdk synth', () => {
  it('works offline without credentials and writes the bundled functions and the agent image context', () => {
    // Only what a shell needs: no AWS_* variables, a HOME without ~/.aws.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: out, CDK_DISABLE_VERSION_CHECK: '1', CI: 'true' };
    const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', join(out, 'cdk.out')], { env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const cdkOut = join(out, 'cdk.out');
    const template = JSON.parse(readFileSync(join(cdkOut, 'Kumo.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const functions = Object.values(template.Resources).filter((res) => res.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      const asset = fn.Metadata?.['aws:asset:path'];
      expect(asset).toBeDefined();
      const file = join(cdkOut, asset!, 'index.mjs');
      const bundle = readFileSync(file, 'utf8');
      // Self-contained ESM: the SDK is inside, SQLite is not.
      expect(bundle).toContain('import.meta.url');
      expect(bundle).toMatch(/DynamoDBClient/);
      expect(/better_sqlite3\.node|from"better-sqlite3"/.test(bundle), `${asset} imports SQLite`).toBe(false);
      // It loads in Node as Lambda loads it, with nothing beside it (no node_modules up its tree).
      const loaded = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)});`], {
        env,
        encoding: 'utf8',
        cwd: out,
        timeout: 60_000,
      });
      expect(loaded.status, loaded.stderr).toBe(0);
    }
    const image = readdirSync(cdkOut)
      .map((d) => join(cdkOut, d))
      .find((d) => existsSync(join(d, 'docker', 'agent', 'Dockerfile')));
    expect(image).toBeDefined();
    expect(readdirSync(image!).sort()).toEqual(['bin', 'docker', 'lib', 'package-lock.json', 'package.json', 'tsconfig.json']);
  }, 120_000);
});
