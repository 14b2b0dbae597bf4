import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort } from '@postern/testkit'

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

/**
 * Writes the config file of a `postern hub` process listening on `127.0.0.1:port` in region
 * `nam` (JSON is YAML) and returns its path and URL; `extra` adds or replaces keys.
 */
export async function hubConfigFile(
  dir: string,
  extra: Record<string, unknown> = {},
): Promise<{ file: string; url: string }> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const file = join(dir, 'hub.yaml')
  writeFileSync(
    file,
    JSON.stringify({
      dataDir: join(dir, 'hub'),
      listen: `127.0.0.1:${port}`,
      publicUrl: url,
      region: 'nam',
      ...extra,
    }),
  )
  return { file, url }
}

/** An access token of an API client (client-credentials grant, RFC 6749 §4.4). */
export async function clientAccessToken(
  hubUrl: string,
  client: { client_id: string; client_secret: string },
): Promise<string> {
  const res = await fetch(`${hubUrl}/iroh/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  })
  if (!res.ok) throw new Error(`token of ${client.client_id}: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}
