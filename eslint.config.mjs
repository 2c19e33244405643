import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** Relative imports that reach the handlers or the local runtime from src/ (kept out of it). */
const OUTER_LAYERS = ['**/lambdas', '**/lambdas/**', '**/local', '**/local/**'];
const DOMAIN_MESSAGE =
  'the domain (src/ outside src/adapters/) defines ports; put SDK and file-system code in src/adapters/<tech>/';
const OUTER_MESSAGE =
  'src/ never imports lambdas/ or local/: wire ports in lambdas/composition/ instead';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'cdk.out/**',
      'coverage/**',
      '.bench/**',
      'client/dist/**',
      'client/*.cjs',
      '*.js',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['lambdas/**/*.ts', 'src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  // The layering of docs/architecture.md: the domain (src/ outside src/adapters/) defines its
  // ports and never reaches a cloud SDK, the file system, a handler or the local runtime;
  // adapters implement the ports and may use the SDK, but not handlers or the local runtime.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'aws-lambda', message: DOMAIN_MESSAGE },
            { name: 'node:fs', message: DOMAIN_MESSAGE },
            { name: 'node:fs/promises', message: DOMAIN_MESSAGE },
            { name: 'fs', message: DOMAIN_MESSAGE },
            { name: 'fs/promises', message: DOMAIN_MESSAGE },
          ],
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', '@aws-lambda-powertools/*'],
              message: DOMAIN_MESSAGE,
            },
            { group: OUTER_LAYERS, message: OUTER_MESSAGE },
            {
              group: ['**/adapters', '**/adapters/**'],
              message: 'the domain depends on its ports; lambdas/composition/ picks the adapter',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: OUTER_LAYERS, message: OUTER_MESSAGE }] },
      ],
    },
  },
);
