// Lint rules for the whole repository (`npm run lint`, part of `npm test`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  // AssemblyScript sources (decorators, i32/v128 types) are compiled by asc, not linted as TypeScript.
  { ignores: ['node_modules/**', 'dist/**', 'results/**', 'data/cache/**', '.jupyter/**', '.slurm/**', 'scratch/**', 'lib/core/wasm-kernels/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused code is dead code; a leading underscore marks a parameter kept for a contract's signature.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The suite never silences the type checker by hand.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': 'allow-with-description', 'ts-expect-error': 'allow-with-description' }],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    // CommonJS entry points (the tslab kernel launcher, the bundle's resvg shim) must use require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Constants the bundler defines at build time (reproduce/bundle/build.mjs).
    files: ['reproduce/bundle/entry.mjs'],
    languageOptions: { globals: { __REPRO_GIT_COMMIT__: 'readonly', __REPRO_GIT_DIRTY__: 'readonly', __REPRO_PACKAGE_VERSIONS__: 'readonly', __REPRO_CODE_FINGERPRINTS__: 'readonly' } },
  },
);
