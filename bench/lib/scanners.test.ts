import { chmodSync } from 'node:fs'
import { connect } from 'node:net'
import { tempDir } from '@postern/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { EICAR, startClamd, startRspamd } from './scanners.js'

const dir = tempDir('bench-scanners-')
// The daemons drop privileges (clamav, _rspamd) and must reach their folders below it.
chmodSync(dir.path, 0o755)
afterAll(() => dir.remove())

/** clamd's INSTREAM command: chunks prefixed by their 4-byte length, a zero-length chunk ends. */
function instream(port: number, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let reply = ''
    socket.on('data', (chunk) => (reply += chunk.toString()))
    socket.on('end', () => resolve(reply.replace(/\0/g, '').trim()))
    socket.on('error', reject)
    const size = Buffer.alloc(4)
    size.writeUInt32BE(data.length)
    socket.write('zINSTREAM\0')
    socket.write(size)
    socket.write(data)
    socket.end(Buffer.alloc(4))
  })
}

describe('bench scanners', () => {
  it('starts clamd with the bench signatures and stops it', async () => {
    const clamd = await startClamd(`${dir.path}/clamd`)
    try {
      expect(await instream(clamd.port, Buffer.from(EICAR))).toMatch(
        /^stream: Eicar-Test-Signature(\.UNOFFICIAL)? FOUND$/,
      )
      expect(await instream(clamd.port, Buffer.from('hello'))).toBe('stream: OK')
    } finally {
      await clamd.stop()
    }
    expect(clamd.service.running()).toBe(false)
  })

  it('starts rspamd answering /checkv2 and stops it', async () => {
    const rspamd = await startRspamd(`${dir.path}/rspamd`)
    try {
      const response = await fetch(`${rspamd.url}/checkv2`, {
        method: 'POST',
        body: 'From: a@example.com\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nhello\r\n',
      })
      const result = (await response.json()) as { action: string; score: number }
      expect(response.status).toBe(200)
      expect(typeof result.score).toBe('number')
      expect(result.action).toMatch(
        /^(no action|greylist|add header|rewrite subject|soft reject|reject)$/,
      )
    } finally {
      await rspamd.stop()
    }
    expect(rspamd.service.running()).toBe(false)
  }, 240_000)
})
