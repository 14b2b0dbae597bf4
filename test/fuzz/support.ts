import fc, { type Parameters } from 'fast-check'

const CI_SEEDS: Record<string, number> = {
  'gateway-api': 544292408,
  'hub-api': 544253312,
  'mime-analysis': 544002079,
  'mime-pipeline': 544006886,
  'smtp-session': 544282093,
}

/**
 * Bounded fuzzing: a few seconds per property in `npm test`, longer with `npm run fuzz`
 * (`FUZZ_SECONDS`). The seed is printed so that a failure can be replayed (`FUZZ_SEED`).
 */
export function fuzzParameters(name: string): Parameters<unknown> & { seed: number } {
  // Under CI the seeds are fixed (runs that passed there), so a CI result is reproducible;
  // `npm run fuzz` explores new seeds, and what it finds becomes a regression case.
  const fixed = process.env.CI && !process.env.FUZZ_SECONDS ? CI_SEEDS[name] : undefined
  const seed = Number(process.env.FUZZ_SEED ?? fixed ?? Date.now() % 2_147_483_647)
  const seconds = Number(process.env.FUZZ_SECONDS ?? 4)
  console.info(`fuzz ${name}: seed ${seed} for ${seconds} s (FUZZ_SEED/FUZZ_SECONDS to change)`)
  return {
    seed,
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: seconds * 1_000,
    markInterruptAsFailure: false,
  }
}

/** Test timeout for a fuzz case: its time budget plus setup. */
export function fuzzTimeout(): number {
  return Number(process.env.FUZZ_SECONDS ?? 4) * 1_000 + 120_000
}

/** Path segments a hostile client sends: random text, numbers, traversal, broken escapes, SQL. */
export const hostileSegment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.constantFrom(
    '0',
    '-1',
    '1e309',
    '9007199254740993',
    '..',
    '%00',
    '%E0%A4%A',
    "'; drop table x",
  ),
)
