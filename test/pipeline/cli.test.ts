import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  startPipelineGateway,
  waitForStatus,
  type PipelineGateway,
} from '../support/pipeline-gateway.js'

const run = promisify(execFile)
const BIN = new URL('../../bin/postern.js', import.meta.url).pathname

/**
 * The operator's commands against a running gateway, through the real `postern` binary, with
 * the gateway's address and a token (`--url`/`--token`, as from an administrator's machine).
 */
describe('postern gateway quarantine / blocklist / blocked-users', () => {
  let gw: PipelineGateway

  beforeAll(async () => {
    gw = await startPipelineGateway({ workers: 1, authentication: { enabled: false } })
  })
  afterAll(async () => {
    await gw?.stop()
  })

  const postern = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [
        BIN,
        'gateway',
        ...args,
        '--url',
        gw.httpUrl,
        '--token',
        gw.token(),
      ])
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }

  it('adds, lists and removes block list entries; a bad value is a coded error with exit code 65', async () => {
    const added = await postern(
      'blocklist',
      'add',
      'url_domain',
      'hxxps://evil[.]example/x',
      '--reason',
      'campaign',
      '--expires',
      '7d',
      '--json',
    )
    expect(added.code).toBe(0)
    const entry = JSON.parse(added.stdout) as {
      id: number
      value: string
      source: string
      expiresAt: number
    }
    expect(entry).toMatchObject({ value: 'evil.example', source: 'cli' })
    expect(entry.expiresAt).toBeGreaterThan(Date.now())
    const list = await postern('blocklist', 'list', '--kind', 'url_domain')
    expect(list.stdout).toMatch(/url_domain\s+evil\.example\s+cli/)
    const bad = await postern('blocklist', 'add', 'sender_ip', 'not-an-ip', '--reason', 'x')
    expect(bad.code).toBe(65)
    expect(bad.stderr).toContain('GW_ERR_BLOCKLIST_VALUE_INVALID')
    expect(bad.stderr).toContain('next:')
    const removed = await postern('blocklist', 'remove', String(entry.id))
    expect(removed).toMatchObject({ code: 0, stdout: `${entry.id}: removed\n` })
  })

  it('lists, shows, releases and deletes quarantined messages', async () => {
    const phish = [
      'From: IT <it@phish.example>',
      'To: bob@corp.example',
      'Subject: Reset \u001b[31myour password',
      'Content-Type: text/html',
      '',
      '<form action="https://phish.example/p"><input type="password" name="p"></form>',
      '',
    ].join('\r\n')
    const mids: number[] = []
    for (let i = 0; i < 2; i++) {
      const { response } = await gw.send(
        'inbound',
        { from: 'it@phish.example', to: ['bob@corp.example'] },
        phish,
      )
      mids.push(Number(/queued as (\d+)/.exec(response)?.[1]))
    }
    for (const mid of mids) await waitForStatus(gw, mid, ['quarantined'])
    const list = await postern('quarantine', 'list', '--quarantine', 'policy', '--json')
    const items = (JSON.parse(list.stdout) as { items: { id: number; mid: number }[] }).items
    expect(items.map((i) => i.mid).sort()).toEqual(mids.sort())
    const [first, second] = items as unknown as [{ id: number }, { id: number }]
    const show = await postern('quarantine', 'show', String(first.id))
    expect(show.code).toBe(0)
    // The escape sequence in the subject reaches the terminal as a replacement character.
    expect(show.stdout).toContain('Subject: Reset \uFFFD[31myour password')
    expect(show.stdout).toContain('https://phish.example/p')
    const released = await postern('quarantine', 'release', String(first.id))
    expect(released).toMatchObject({ code: 0, stdout: `${first.id}: released\n` })
    const again = await postern('quarantine', 'release', String(first.id), String(second.id))
    expect(again.code).toBe(1)
    expect(again.stdout).toContain(`${second.id}: released`)
    expect(again.stderr).toContain('GW_ERR_QUARANTINE_ITEM_NOT_HELD')
    const summary = await postern('quarantine', 'summary')
    expect(summary.stdout).toMatch(/policy\s+0\s+0\s+30d\s+delete/)
  })

  it('blocks and unblocks users', async () => {
    expect(
      (await postern('blocked-users', 'block', 'mallory@corp.example', '--reason', 'phished'))
        .stdout,
    ).toBe('blocked mallory@corp.example\n')
    expect((await postern('blocked-users', 'list')).stdout).toMatch(
      /mallory@corp\.example\s+\S+\s+cli\s+local-cli/,
    )
    expect((await postern('blocked-users', 'unblock', 'mallory@corp.example')).stdout).toBe(
      'unblocked mallory@corp.example\n',
    )
    const missing = await postern('blocked-users', 'unblock', 'mallory@corp.example')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('GW_ERR_BLOCKED_SENDER_NOT_FOUND')
  })
})
