import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'cdk.out/', 'node_modules/', 'coverage/', 'bench/results/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // lib/ and the functions log through an injected Logger (lib/log/logger.ts, docs/logging.md), never the console.
  { files: ['lib/**/*.ts', 'functions/**/*.ts'], rules: { 'no-console': 'error' } },
);
