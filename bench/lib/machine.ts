import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, loadavg, release, totalmem } from 'node:os'
import { basename } from 'node:path'
import { runCommand } from './services.js'

/**
 * What a benchmark figure depends on, recorded next to it: the machine (CPU, cores, memory, the
 * disk under the bench's data — fsync cost lives there), how busy it was, and the exact code.
 */

export interface MachineInfo {
  cpu: string
  cores: number
  memoryBytes: number
  /** e.g. "ext4 on /dev/vda (rotational flag 1)". */
  disk: string
  kernel: string
  /** systemd-detect-virt's answer ("kvm", "docker", "none"), or undefined when unknown. */
  virtualization: string | undefined
}

export async function describeMachine(dataDir: string): Promise<MachineInfo> {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    disk: await describeDisk(dataDir),
    kernel: `Linux ${release()}`,
    virtualization: await detectVirtualization(),
  }
}

export function formatMachine(machine: MachineInfo): string {
  const memory = `${(machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB RAM`
  const virt =
    machine.virtualization && machine.virtualization !== 'none'
      ? `, virtualised (${machine.virtualization})`
      : ''
  return `${machine.cpu}, ${machine.cores} cores, ${memory}, ${machine.disk}, ${machine.kernel}${virt}`
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (match?.[1]) return match[1].trim()
  } catch {
    // not Linux, or /proc hidden
  }
  return 'unknown CPU'
}

async function describeDisk(dir: string): Promise<string> {
  const found = await runCommand('findmnt', ['-n', '-o', 'SOURCE,FSTYPE', '-T', dir])
  const [source, fstype] = found.stdout.trim().split(/\s+/)
  if (found.code !== 0 || !source || !fstype) return 'disk unknown'
  if (fstype === 'tmpfs') return 'tmpfs (memory: fsync costs nothing here)'
  const rotational = rotationalFlag(source)
  return `${fstype} on ${source}${rotational === undefined ? '' : ` (rotational flag ${rotational})`}`
}

/** /sys/class/block/NAME/queue/rotational, looking at the parent disk for a partition. */
function rotationalFlag(source: string): string | undefined {
  const name = basename(source)
  for (const path of [
    `/sys/class/block/${name}/queue/rotational`,
    `/sys/class/block/${name}/../queue/rotational`,
  ]) {
    if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  }
  return undefined
}

async function detectVirtualization(): Promise<string | undefined> {
  const result = await runCommand('systemd-detect-virt', [])
  const answer = result.stdout.trim()
  return answer === '' ? undefined : answer
}

/** The 1-minute load average: the bench records it at start and end as a noise indicator. */
export function loadAverage(): number {
  return loadavg()[0] ?? 0
}

export interface SourceVersion {
  commit: string
  /** True when tracked files differ from the commit (the figures are then of uncommitted code). */
  dirty: boolean
  describe: string
}

/** The git commit of the working tree at `cwd`. */
export async function sourceVersion(cwd: string): Promise<SourceVersion> {
  const head = await runCommand('git', ['rev-parse', '--short=12', 'HEAD'], { cwd })
  if (head.code !== 0)
    return { commit: 'unknown', dirty: false, describe: 'unknown (not a git checkout)' }
  const status = await runCommand('git', ['status', '--porcelain', '--untracked-files=no'], { cwd })
  const commit = head.stdout.trim()
  const dirty = status.stdout.trim() !== ''
  return { commit, dirty, describe: dirty ? `${commit} + uncommitted changes` : commit }
}
