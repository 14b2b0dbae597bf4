import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, requireProgram, startProcess, tempDir, waitFor } from '@postern/testkit'

export interface RunningRspamd {
  /** Base URL of the normal worker (`/checkv2`). */
  url: string
  stop(): Promise<void>
}

/** Subjects that make the test rules fire (see RULES below). */
export const RSPAMD_SPAM_SUBJECT = 'postern-test-spam'
export const RSPAMD_SUSPECT_SUBJECT = 'postern-test-suspect'

// Two deterministic rules so tests do not depend on rspamd's statistics or network checks:
// a subject marker scoring over the reject threshold, and one between add_header and reject.
// rspamd's built-in GTUBE detection works as well (action reject).
const RULES = `
rspamd_config:register_symbol({
  name = 'POSTERN_TEST_SPAM',
  score = 20.0,
  description = 'Postern test marker: spam',
  callback = function(task)
    return (task:get_subject() or ''):find('${RSPAMD_SPAM_SUBJECT.replace(/-/g, '%-')}') ~= nil
  end,
})
rspamd_config:register_symbol({
  name = 'POSTERN_TEST_SUSPECT',
  score = 7.0,
  description = 'Postern test marker: probable spam',
  callback = function(task)
    return (task:get_subject() or ''):find('${RSPAMD_SUSPECT_SUBJECT.replace(/-/g, '%-')}') ~= nil
  end,
})
`

/**
 * Starts a real rspamd (Debian package `rspamd`) with a minimal configuration written to a
 * temporary directory: one normal worker on a free local port, reject at 15 and add_header at
 * 6, the two rules above, DNS pointed at a closed port and a tiny TLD list so that it starts in
 * well under a second and never touches the network.
 */
export async function startRspamd(): Promise<RunningRspamd> {
  const rspamd = requireProgram('rspamd', 'rspamd')
  const dir = tempDir('postern-rspamd-')
  const port = await freePort()
  for (const sub of ['db', 'tmp']) mkdirSync(join(dir.path, sub))
  writeFileSync(join(dir.path, 'rules.lua'), RULES)
  writeFileSync(join(dir.path, 'tld.dat'), 'com\nnet\norg\nexample\ntest\nly\nio\nco\nuk\nco.uk\n')
  writeFileSync(
    join(dir.path, 'rspamd.conf'),
    `options {
  pidfile = "${dir.path}/rspamd.pid";
  dbdir = "${dir.path}/db";
  tmpdir = "${dir.path}/tmp";
  filters = "";
  url_tld = "${dir.path}/tld.dat";
  dns { nameserver = ["127.0.0.1:9"]; timeout = 0.2s; retransmits = 1; }
}
logging { type = "console"; level = "warning"; }
actions { reject = 15; add_header = 6; greylist = null; }
worker "normal" { bind_socket = "127.0.0.1:${port}"; count = 1; }
lua = "${dir.path}/rules.lua";
`,
  )
  // rspamd refuses to keep root privileges unless told which user to run as.
  const userArgs = process.getuid?.() === 0 ? ['-u', 'root', '-g', 'root'] : []
  const proc = startProcess(rspamd, ['-f', '-c', join(dir.path, 'rspamd.conf'), ...userArgs], {
    env: { ...process.env, TMPDIR: join(dir.path, 'tmp') },
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`rspamd exited:\n${proc.output()}`)
        const res = await fetch(`${url}/ping`).catch(() => undefined)
        return res?.ok ?? false
      },
      { timeoutMs: 60_000, what: `rspamd on ${url}` },
    )
  } catch (err) {
    await proc.stop()
    dir.remove()
    throw err
  }
  return {
    url,
    stop: async () => {
      await proc.stop()
      dir.remove()
    },
  }
}
