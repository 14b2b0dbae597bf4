import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import nodemailer from 'nodemailer'
import { requireProgram } from '@postern/testkit'

/**
 * A raw SMTP client over a plain socket: writes exactly the bytes a test gives it (bare LFs,
 * early talk, pipelined commands) and reads replies as the server sends them.
 */
export class RawSmtp {
  private buffer = ''
  private waiters: (() => void)[] = []
  closed = false
  readonly closedPromise: Promise<void>

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1')
      for (const w of this.waiters.splice(0)) w()
    })
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true
        for (const w of this.waiters.splice(0)) w()
        resolve()
      })
    })
    socket.on('error', () => undefined)
  }

  static open(port: number, localAddress = '127.0.0.1'): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress }, () =>
        resolve(new RawSmtp(socket)),
      )
      socket.once('error', reject)
    })
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
  }

  /** The next complete reply (multi-line replies joined), or null when the server closed. */
  async reply(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/.exec(this.buffer)
      if (match) {
        this.buffer = this.buffer.slice((match[1] as string).length)
        return (match[1] as string).trimEnd()
      }
      if (this.closed) return null
      if (Date.now() > deadline)
        throw new Error(`no SMTP reply; buffer: ${JSON.stringify(this.buffer)}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }

  /** Sends a command line and returns its reply. */
  async command(line: string): Promise<string | null> {
    this.write(`${line}\r\n`)
    return this.reply()
  }

  /** Whatever else arrived (replies nobody asked for). */
  pending(): string {
    return this.buffer
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Greeting, EHLO, MAIL, RCPTs, DATA: returns the connection ready for the message bytes. */
export async function openTransaction(
  port: number,
  from: string,
  to: string[],
  options: { localAddress?: string } = {},
): Promise<RawSmtp> {
  const smtp = await RawSmtp.open(port, options.localAddress)
  expectCode(await smtp.reply(), 220)
  expectCode(await smtp.command('EHLO client.test'), 250)
  expectCode(await smtp.command(`MAIL FROM:<${from}>`), 250)
  for (const r of to) expectCode(await smtp.command(`RCPT TO:<${r}>`), 250)
  expectCode(await smtp.command('DATA'), 354)
  return smtp
}

export function expectCode(reply: string | null, code: number): string {
  if (reply === null || !reply.startsWith(String(code))) {
    throw new Error(`expected ${code}, got ${JSON.stringify(reply)}`)
  }
  return reply
}

export interface SendOptions {
  port: number
  from: string
  to: string | string[]
  subject?: string
  text?: string
  localAddress?: string
  /** Use STARTTLS and require it (the gateway's certificate is self-signed). */
  requireTLS?: boolean
  auth?: { user: string; pass: string }
  headers?: Record<string, string>
  raw?: string
}

/** Sends one message with nodemailer (one connection per message). Resolves with the reply. */
export async function sendWithNodemailer(options: SendOptions): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: options.port,
    secure: false,
    ignoreTLS: !options.requireTLS,
    requireTLS: Boolean(options.requireTLS),
    tls: { rejectUnauthorized: false },
    localAddress: options.localAddress,
    auth: options.auth,
    name: 'client.test',
  })
  try {
    const info = await transport.sendMail(
      options.raw !== undefined
        ? { envelope: { from: options.from, to: options.to }, raw: options.raw }
        : {
            from: options.from,
            to: options.to,
            subject: options.subject ?? 'test',
            text: options.text ?? 'hello',
            headers: options.headers,
          },
    )
    return info.response
  } finally {
    transport.close()
  }
}

/** Sends one message with Python's smtplib (Debian python3). Resolves with `code message`. */
export async function sendWithPython(options: {
  port: number
  from: string
  to: string[]
  message: string
  starttls?: boolean
  localAddress?: string
  /** `str` lets smtplib fix line endings (its _fix_eols); `bytes` sends them as they are. */
  as?: 'str' | 'bytes'
}): Promise<{ code: number; reply: string; refused?: Record<string, unknown> }> {
  const python = requireProgram('python3', 'python3')
  const script = `
import json, smtplib, ssl, sys
args = json.loads(sys.stdin.read())
try:
    s = smtplib.SMTP('127.0.0.1', args['port'], source_address=(args['local'], 0), timeout=30)
    s.ehlo('python.test')
    if args['starttls']:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo('python.test')
    message = args['message'] if args['as'] == 'str' else args['message'].encode('utf-8')
    refused = s.sendmail(args['from'], args['to'], message)
    code, msg = s.noop()
    s.quit()
    print(json.dumps({'code': 250, 'reply': 'ok', 'refused': {k: list(v) if isinstance(v, tuple) else v for k, v in refused.items()}}))
except smtplib.SMTPResponseException as e:
    print(json.dumps({'code': e.smtp_code, 'reply': e.smtp_error.decode('utf-8', 'replace')}))
except smtplib.SMTPRecipientsRefused as e:
    first = list(e.recipients.values())[0]
    print(json.dumps({'code': first[0], 'reply': first[1].decode('utf-8', 'replace')}))
`
  const input = JSON.stringify({
    port: options.port,
    from: options.from,
    to: options.to,
    message: options.message,
    starttls: Boolean(options.starttls),
    local: options.localAddress ?? '127.0.0.1',
    as: options.as ?? 'bytes',
  })
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`python3 failed (${code}): ${err}`))
      resolve(JSON.parse(out) as { code: number; reply: string })
    })
    child.stdin.end(input)
  })
}
