import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const POSTERN = join(ROOT, 'bin/postern.js')

/** Longest wait for one CLI call: each starts Node on a machine shared with other work. */
export const CLI_MS = 120_000

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `postern ARGS` and returns its exit code and output, whatever the outcome. */
export async function cli(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [POSTERN, ...args], {
      cwd: ROOT,
      timeout: CLI_MS,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }
  }
}

/** Runs `postern ARGS`, fails with its output unless it exits 0, and returns its stdout. */
export async function ok(args: string[]): Promise<string> {
  const result = await cli(args)
  if (result.code !== 0)
    throw new Error(
      `postern ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`,
    )
  return result.stdout
}

/**
 * Prepares an empty hub database through the CLI, as an operator would: the organisation
 * "Acme" with its first admin, and an API client with these scopes (its id and secret).
 */
export async function bootstrapHub(
  config: string,
  client: { name: string; scopes: string },
): Promise<{ client_id: string; client_secret: string }> {
  await ok([
    'hub',
    'user',
    'create',
    '--config',
    config,
    '--email',
    'admin@acme.example',
    '--create-org',
    'Acme',
    '--json',
  ])
  return JSON.parse(
    await ok([
      'hub',
      'api-client',
      'create',
      '--config',
      config,
      '--name',
      client.name,
      '--scopes',
      client.scopes,
    ]),
  ) as { client_id: string; client_secret: string }
}
