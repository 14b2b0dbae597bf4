import { readFileSync } from 'node:fs'
import semver from 'semver'
import { describe, expect, it } from 'vitest'

interface LockPackage {
  version?: string
  engines?: Record<string, string> | string[]
  dev?: boolean
  optional?: boolean
}

// Postern supports Node.js 20 (DEVELOPERS.md). Some libraries' latest majors need Node 22 and
// crash or misbehave on 20 (better-sqlite3 13 segfaults): this test keeps them out of the lock.
const SUPPORTED_NODE = '20.19.0'

describe('dependency engines', () => {
  it('every locked package accepts Node.js 20', () => {
    const lock = JSON.parse(
      readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'),
    ) as {
      packages: Record<string, LockPackage>
    }
    const refused: string[] = []
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const range = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined
      if (!range || !path.includes('node_modules/')) continue
      if (!semver.satisfies(SUPPORTED_NODE, range, { includePrerelease: true })) {
        refused.push(`${path.replace(/^.*node_modules\//, '')}@${pkg.version} needs node ${range}`)
      }
    }
    expect(refused).toEqual([])
  })
})
