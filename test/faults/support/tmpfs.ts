import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface SmallFilesystem {
  path: string
  /** Bytes free for unprivileged writers (what the gateway's statfs sees). */
  free(): Promise<number>
  unmount(): Promise<void>
}

/**
 * Mounts a real, small tmpfs at `path` so a suite can fill a filesystem for real (ENOSPC and
 * all). Needs root (CI runs as root). Like every component, a missing capability fails the
 * suite with what to do, it never skips it.
 */
export async function mountTmpfs(path: string, sizeBytes: number): Promise<SmallFilesystem> {
  mkdirSync(path, { recursive: true })
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', path])
  } catch (err) {
    throw new Error(
      `This suite mounts a small tmpfs to fill a filesystem for real and needs root ` +
        `(mount -t tmpfs): ${(err as Error).message}`,
    )
  }
  return {
    path,
    async free() {
      const stats = await statfs(path)
      return stats.bavail * stats.bsize
    },
    async unmount() {
      await run('umount', ['-l', path]).catch(() => undefined)
    },
  }
}
