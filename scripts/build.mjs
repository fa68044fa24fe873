// Transpiles the TypeScript sources to dist/ file by file (no bundling), so
// `#lib/*` imports resolve through package.json's "default" condition to
// dist/lib. Type checking is `npm run typecheck`'s job, not this one's.
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['lib', 'bin', 'functions', 'bench'];

function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts') && !path.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: roots.flatMap((root) => walk(root)),
  outdir: 'dist',
  outbase: '.',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
