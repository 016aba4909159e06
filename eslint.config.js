// Lint keeps workflow code deterministic by construction: no Node built-ins, no adapters or
// drivers, and activities only as types (they run on the worker, never inside the workflow sandbox).
const tseslint = require('typescript-eslint');
const { builtinModules } = require('node:module');

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

module.exports = tseslint.config(
  { ignores: ['node_modules/**', 'data/**', '.tools/**', 'demo/**', 'bin/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must be deterministic: do I/O in an activity.' })),
          patterns: [
            { group: ['**/adapters/**', '**/sandbox/**', '**/infra/**', '**/store/**', '**/workers/**', '**/api/**', '**/config/**'], message: 'Workflows reach the world only through activities.' },
            { group: ['pg', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@slack/*', 'zod'], message: 'Not available in the workflow sandbox.' },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'Import activities by type only: proxyActivities<…> calls them.' },
          ],
        },
      ],
    },
  },
);
