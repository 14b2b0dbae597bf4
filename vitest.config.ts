import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@postern/source'] },
  ssr: { resolve: { conditions: ['@postern/source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      'test/faults/**/*.long.test.ts',
      'bench/.peers/**',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]]
      : ['default'],
  },
})
