import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { runCommand } from './services.js'

/**
 * Installing what a bench compares against. Debian packages come from the distribution's
 * mirror with apt-get (non-interactively, as .ci/run does); npm peers go into a cache folder
 * of their own under bench/.peers, never into the workspace lockfile.
 */

/** The absolute path of `program`, also looking in the sbin directories, or undefined. */
export function findProgram(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin']
  for (const dir of dirs) {
    if (dir === '') continue
    const candidate = join(dir, program)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export interface DebianPackage {
  name: string
  /** Programs the package provides that the bench runs. */
  programs: string[]
  /** debconf answers so that installation asks nothing (lines for debconf-set-selections). */
  preseed?: string[]
}

/**
 * Returns the paths of the package's programs, installing the package first when one is
 * missing. Installing needs root; otherwise the error says which command to run.
 */
export async function ensureDebianPackage(
  pkg: DebianPackage,
  log: (line: string) => void,
): Promise<Record<string, string>> {
  const missing = pkg.programs.filter((program) => !findProgram(program))
  if (missing.length > 0) {
    if (process.getuid?.() !== 0)
      throw new Error(
        `${missing.join(', ')} missing: install them with "sudo apt-get install -y ${pkg.name}" and run the bench again`,
      )
    log(`Installing the Debian package ${pkg.name} (apt-get install -y ${pkg.name})…`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    if (pkg.preseed?.length) {
      await runCommand('debconf-set-selections', [], { input: `${pkg.preseed.join('\n')}\n` })
    }
    const install = (): Promise<{ code: number; stderr: string }> =>
      runCommand('apt-get', ['install', '-y', '-q', '--no-install-recommends', pkg.name], {
        env,
        timeoutMs: 15 * 60_000,
      })
    let result = await install()
    if (result.code !== 0) {
      // A fresh machine may have no package lists yet.
      log('apt-get install failed; running apt-get update and trying again…')
      await runCommand('apt-get', ['update', '-q'], { env, timeoutMs: 15 * 60_000 })
      result = await install()
    }
    if (result.code !== 0)
      throw new Error(`apt-get install -y ${pkg.name} failed:\n${result.stderr.slice(-2000)}`)
  }
  const paths: Record<string, string> = {}
  for (const program of pkg.programs) {
    const path = findProgram(program)
    if (!path) throw new Error(`${pkg.name} is installed but ${program} is still not found`)
    paths[program] = path
  }
  return paths
}
