/**
 * Reads a password: the whole of standard input with --password-stdin (scripts), otherwise a
 * prompt on the terminal that does not echo what is typed.
 */
export async function readPassword(
  prompt: string,
  options: { fromStdin: boolean; confirm?: boolean },
): Promise<string> {
  if (options.fromStdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '')
  }
  const first = await promptHidden(prompt)
  if (options.confirm) {
    const second = await promptHidden('Again: ')
    if (first !== second) throw new PasswordMismatch()
  }
  return first
}

export class PasswordMismatch extends Error {
  constructor() {
    super('The two passwords differ')
  }
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin
    process.stderr.write(prompt)
    stdin.setRawMode(true)
    stdin.resume()
    let value = ''
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done()
          resolve(value)
          return
        }
        if (ch === '\u0003') {
          done()
          reject(new Error('Interrupted'))
          return
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    const done = () => {
      stdin.removeListener('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    stdin.on('data', onData)
  })
}
