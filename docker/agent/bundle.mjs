// Bundles the node agent for its container image: `node docker/agent/bundle.mjs OUTDIR`
// writes OUTDIR/entrypoint.mjs (lib/cli/node-agent.ts's runNodeAgent) and OUTDIR/kumo.mjs
// (the CLI). The Dockerfile runs this; test:cloud runs the same bundles as agent processes.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'agent-image'));
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies call require(); an ESM bundle has none of its own.
  banner: { js: "import { createRequire as __kumoCreateRequire } from 'node:module'; const require = __kumoCreateRequire(import.meta.url);" },
  alias: { 'better-sqlite3': join(root, 'docker', 'agent', 'no-sqlite.mjs') },
  // ws loads these optional native helpers if present; it works without them.
  external: ['bufferutil', 'utf-8-validate'],
  absWorkingDir: root,
};

await build({
  ...common,
  stdin: {
    contents: "import { runNodeAgent } from './lib/cli/node-agent.ts';\nprocess.exitCode = await runNodeAgent();\n",
    resolveDir: root,
    sourcefile: 'entrypoint.ts',
    loader: 'ts',
  },
  outfile: join(out, 'entrypoint.mjs'),
});
await build({ ...common, entryPoints: [join(root, 'bin', 'kumo.ts')], outfile: join(out, 'kumo.mjs') });
console.log(`agent bundles written to ${out}`);
