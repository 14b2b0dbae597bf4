import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@postern/testkit'
import { runCommand, startService, tailOfFile, tcpAccepts } from '../../lib/index.js'
import type { Availability, RelayInstance, RelayStartContext } from './relay.js'

/**
 * A private Postfix instance: its own main.cf/master.cf, queue and data directories under the
 * run's folder, an smtpd on an ephemeral port, everything relayed to smtp-sink. Postfix's
 * defaults are kept (disk queue, one fsync per message, 20 parallel deliveries per
 * destination); only what a private instance needs is set. The system's own Postfix, if any,
 * is not touched.
 */

export async function postfixAvailability(): Promise<Availability> {
  if (process.getuid?.() !== 0)
    return {
      available: false,
      reason: `a Postfix instance needs root (its master runs as root); run the bench as root, not ${userInfo().username}`,
    }
  const version = await runCommand('postconf', ['-d', '-h', 'mail_version'])
  if (version.code !== 0)
    return { available: false, reason: `postconf failed: ${version.stderr.trim()}` }
  return { available: true, version: version.stdout.trim() }
}

export async function startPostfix(context: RelayStartContext): Promise<RelayInstance> {
  const port = await freePort()
  const etc = join(context.dir, 'etc')
  const queue = join(context.dir, 'queue')
  const data = join(context.dir, 'data')
  const maillog = join(context.dir, 'maillog')
  for (const dir of [etc, queue, data]) mkdirSync(dir, { recursive: true })
  // Postfix's daemons run as the postfix user and must reach their directories.
  chmodSync(context.dir, 0o755)
  const postfixUser = await runCommand('id', ['-u', 'postfix'])
  const postfixGroup = await runCommand('id', ['-g', 'postfix'])
  chownSync(data, Number(postfixUser.stdout), Number(postfixGroup.stdout))

  writeFileSync(
    join(etc, 'main.cf'),
    [
      '# Private instance written by npm run bench:smtp: Postfix defaults except these.',
      'compatibility_level = 3.6',
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      // Log to a file (postlogd): there may be no syslog daemon, and logging is part of the cost.
      `maillog_file = ${maillog}`,
      `maillog_file_prefixes = ${context.dir}`,
      'myhostname = relay.bench.example',
      // Nothing is delivered locally: every recipient is relayed to smtp-sink.
      'mydestination =',
      'local_recipient_maps =',
      'mynetworks = 127.0.0.0/8',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      `relayhost = [127.0.0.1]:${context.sinkPort}`,
      '',
    ].join('\n'),
  )
  // The upstream master.cf services, chroot off (a private instance has no chroot jail), and
  // smtpd on the bench's port instead of 25.
  writeFileSync(
    join(etc, 'master.cf'),
    [
      `127.0.0.1:${port} inet n - n - - smtpd`,
      'pickup     unix  n - n 60    1 pickup',
      'cleanup    unix  n - n -     0 cleanup',
      'qmgr       unix  n - n 300   1 qmgr',
      'tlsmgr     unix  - - n 1000? 1 tlsmgr',
      'rewrite    unix  - - n -     - trivial-rewrite',
      'bounce     unix  - - n -     0 bounce',
      'defer      unix  - - n -     0 bounce',
      'trace      unix  - - n -     0 bounce',
      'verify     unix  - - n -     1 verify',
      'flush      unix  n - n 1000? 0 flush',
      'proxymap   unix  - - n -     - proxymap',
      'proxywrite unix  - - n -     1 proxymap',
      'smtp       unix  - - n -     - smtp',
      'relay      unix  - - n -     - smtp',
      'showq      unix  n - n -     - showq',
      'error      unix  - - n -     - error',
      'retry      unix  - - n -     - error',
      'discard    unix  - - n -     - discard',
      'anvil      unix  - - n -     1 anvil',
      'scache     unix  - - n -     1 scache',
      'postlog    unix-dgram n - n - 1 postlogd',
      '',
    ].join('\n'),
  )

  // `postfix check` creates the queue directories with their owners and modes.
  const check = await runCommand('postfix', ['-c', etc, 'check'])
  if (check.code !== 0)
    throw new Error(
      `postfix check failed for the bench instance: ${check.stderr.trim()}\n${tailOfFile(maillog, 2000)}`,
    )
  try {
    const service = await startService({
      name: 'postfix',
      command: 'postfix',
      args: ['-c', etc, 'start-fg'],
      logFile: join(context.dir, 'postfix.out'),
      ready: () => tcpAccepts(port),
      readyTimeoutMs: 30_000,
      gracefulStop: () => runCommand('postfix', ['-c', etc, 'stop']),
    })
    return { port, service, stop: () => service.stop(15_000) }
  } catch (err) {
    // Postfix reports through its log, not on stdout.
    throw new Error(`${(err as Error).message}\n${maillog}:\n${tailOfFile(maillog, 1500)}`)
  }
}
