import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The floors of the source tree, lowest first (docs/architecture.md gives the reason for each).
 * A file may import from its own room and from any room on a lower floor: never from a floor
 * above it, nor sideways from another room of its own floor, except where SIDEWAYS says so.
 * Tests may import anything.
 */
export const FLOORS = [
  ['lib/util'],
  ['lib/config'],
  ['lib/api', 'lib/log'],
  ['lib/store', 'lib/printers', 'lib/apiextensions'],
  ['lib/kinds'],
  ['lib/client'],
  ['lib/apiserver', 'lib/auth', 'lib/controller-runtime', 'lib/sim'],
  ['lib/controllers', 'lib/scheduler', 'lib/agent', 'lib/cloudprovider'],
  ['lib/assembly'],
  ['lib/local', 'lib/cloud'],
  ['lib/cli'],
  ['functions', 'bin', 'cdk', 'bench'],
];

/** The one sideways import: the autoscaler plans a scale-up with the scheduler's own filters (as cluster-autoscaler links kube-scheduler's). */
const SIDEWAYS = { 'lib/cloudprovider': ['lib/scheduler'] };

/** The control loops and the agent reach the cluster only through the API (lib/client), never the server's own code. */
const CLIENTS_OF_THE_API = ['lib/controller-runtime', 'lib/sim', 'lib/controllers', 'lib/scheduler', 'lib/agent', 'lib/cloudprovider'];
const SERVER = ['lib/apiserver', 'lib/auth'];

/** One zone a room: every room above its floor and every other room of its floor is out of its reach. */
const floorZones = FLOORS.flatMap((rooms, level) =>
  rooms.map((room) => {
    const above = FLOORS.slice(level + 1).flat();
    const peers = rooms.filter((r) => r !== room && !(SIDEWAYS[room] ?? []).includes(r));
    const server = CLIENTS_OF_THE_API.includes(room) ? SERVER.filter((r) => !peers.includes(r)) : [];
    return {
      target: `./${room}`,
      from: [...peers, ...above, ...server].map((r) => `./${r}`),
      message: `${room} is on floor ${level}: it imports only its own room and the floors below${server.length ? ', and not the API server (it uses the API through lib/client)' : ''} (docs/architecture.md).`,
    };
  }),
);

export default tseslint.config(
  { ignores: ['dist/', 'cdk.out/', 'node_modules/', 'coverage/', 'bench/results/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'bin/**/*.ts', 'cdk/**/*.ts', 'bench/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Resolves `#lib/*` (package.json imports, `source` condition) and `.js` specifiers to the .ts sources.
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ project: './tsconfig.json', conditionNames: ['source', 'types', 'import', 'node', 'default'] }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: floorZones }],
    },
  },
  // lib/ and the functions log through an injected Logger (lib/log/logger.ts, docs/logging.md), never the console.
  { files: ['lib/**/*.ts', 'functions/**/*.ts'], rules: { 'no-console': 'error' } },
);
