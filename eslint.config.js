import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/', 'cdk.out/', 'node_modules/', 'coverage/', 'bench/results/'] }, ...tseslint.configs.recommended, {
  rules: {
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    '@typescript-eslint/no-explicit-any': 'error',
  },
});
