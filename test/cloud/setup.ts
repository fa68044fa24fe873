/**
 * Global setup of the cloud suite: synthesizes the CDK stack once, as `cdk
 * synth` does (local esbuild bundling), and hands every test file the paths
 * of the function bundles in the cloud assembly, the very files a deploy
 * uploads; and bundles the node agent as its Dockerfile does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { TestProject } from 'vitest/node';
import { KumoStack } from '../../cdk/kumo-stack.js';

export interface CloudBundles {
  /** functions/api.ts, as deployed (exports handler and streamingHandler). */
  api: string;
  controllers: string;
  scheduler: string;
  /** The node agent image's entrypoint and CLI (docker/agent/bundle.mjs). */
  agentEntrypoint: string;
  kumo: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cloudBundles: CloudBundles;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-cloud-'));
  const started = Date.now();
  const app = new App({ outdir: join(dir, 'cdk.out'), context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new KumoStack(app, 'KumoCloudTest', { deletionProtection: false });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Metadata?: Record<string, string> }> };
  const bundleOf = (fn: { node: { defaultChild?: unknown } }) => {
    const asset = template.Resources[stack.getLogicalId(fn.node.defaultChild as never)]?.Metadata?.['aws:asset:path'];
    if (!asset) throw new Error('the synthesized function has no asset path');
    return join(assembly.directory, asset, 'index.mjs');
  };
  const agent = join(dir, 'agent');
  const built = spawnSync(process.execPath, ['docker/agent/bundle.mjs', agent], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`agent bundle failed: ${built.stderr}`);
  project.provide('cloudBundles', {
    api: bundleOf(stack.api.fn),
    controllers: bundleOf(stack.controllers.fn),
    scheduler: bundleOf(stack.scheduler.fn),
    agentEntrypoint: join(agent, 'entrypoint.mjs'),
    kumo: join(agent, 'kumo.mjs'),
  });
  console.log(`cloud suite: stack synthesized and bundled in ${Date.now() - started} ms (${dir})`);
  return () => rmSync(dir, { recursive: true, force: true });
}
