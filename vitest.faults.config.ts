import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * `npm run test:faults`: the long fault suites (test/faults/*.long.test.ts) — crashes during a
 * 50 000-message load, outages of minutes. The short ones run in `npm test`.
 */
export default defineConfig({
  resolve: base.resolve,
  ssr: base.ssr,
  test: {
    include: ['test/faults/**/*.long.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // One suite at a time: each loads the machine on its own.
    fileParallelism: false,
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-artifacts/faults.json' }]]
      : ['default'],
  },
})
