import { mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort, requireProgram, startProcess, tempDir, waitFor } from '@postern/testkit'

/** The EICAR anti-virus test file (eicar.org), which every scanner must detect. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

/** A marker our own signature detects anywhere in a file (a "custom signature" test). */
export const CUSTOM_MALWARE_MARKER = 'POSTERN-TEST-MALWARE-7f3a9c'

export const EICAR_SIGNATURE = 'Eicar-Test-Signature'
export const CUSTOM_SIGNATURE = 'Postern.Test.Custom'

export interface RunningClamd {
  host: string
  port: number
  /** `host:port` for `scanners.clamav.address`. */
  address: string
  stop(): Promise<void>
}

/**
 * Starts a real clamd (Debian package `clamav-daemon`) in the foreground with a signature
 * database the test writes itself (ClamAV `.ndb` extended signatures, no freshclam download):
 * EICAR at offset 0, and a custom hex signature matching CUSTOM_MALWARE_MARKER anywhere.
 */
export async function startClamd(): Promise<RunningClamd> {
  const clamd = requireProgram('clamd', 'clamav-daemon')
  const dir = tempDir('postern-clamd-')
  const port = await freePort()
  const db = join(dir.path, 'db')
  mkdirSync(db)
  const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex')
  writeFileSync(
    join(db, 'postern-test.ndb'),
    `${EICAR_SIGNATURE}:0:0:${hex(EICAR)}\n${CUSTOM_SIGNATURE}:0:*:${hex(CUSTOM_MALWARE_MARKER)}\n`,
  )
  const user = process.getuid?.() === 0 ? 'User root\n' : ''
  writeFileSync(
    join(dir.path, 'clamd.conf'),
    `Foreground yes
DatabaseDirectory ${db}
TCPSocket ${port}
TCPAddr 127.0.0.1
LogFile ${join(dir.path, 'clamd.log')}
PidFile ${join(dir.path, 'clamd.pid')}
StreamMaxLength 10M
Bytecode no
SelfCheck 0
${user}`,
  )
  const proc = startProcess(clamd, ['-c', join(dir.path, 'clamd.conf')])
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`clamd exited:\n${proc.output()}`)
        return (await ping(port)) === 'PONG'
      },
      { timeoutMs: 120_000, intervalMs: 100, what: `clamd on 127.0.0.1:${port}` },
    )
  } catch (err) {
    await proc.stop()
    dir.remove()
    throw err
  }
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    stop: async () => {
      await proc.stop()
      dir.remove()
    },
  }
}

function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('zPING\0'))
    let reply = ''
    socket.setTimeout(1_000, () => socket.destroy())
    socket.on('data', (chunk) => (reply += chunk.toString()))
    socket.on('close', () => resolve(reply.replace(/\0$/, '')))
    socket.on('error', () => resolve(''))
  })
}
