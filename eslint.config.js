import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      'test-artifacts/**',
      'test/corpus/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
  {
    files: ['packages/**/*.ts'],
    rules: {
      // Libraries receive their configuration; only apps read the environment (DESIGN.md §4).
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Packages take configuration as arguments.',
        },
        {
          object: 'process',
          property: 'exit',
          message: 'Packages throw coded errors; apps decide to exit.',
        },
      ],
    },
  },
  {
    // The consoles and the ribbon run in the browser.
    files: ['apps/web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.test.ts', 'packages/*/src/testing.ts', 'packages/testkit/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
)
