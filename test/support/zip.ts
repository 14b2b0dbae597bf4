import { crc32, deflateRawSync } from 'node:zlib'

export interface ZipEntryInput {
  name: string
  data: Buffer
  /** Mark the entry encrypted (bit 0, with the 12-byte encryption header) without encrypting it. */
  encryptedFlag?: boolean
  /** Store uncompressed instead of deflating. */
  store?: boolean
}

/**
 * Writes a zip archive (PKWARE APPNOTE 6.3.x: local headers, central directory, end record) for
 * test messages and the corpus. Deflate comes from zlib; no archive tool is needed.
 */
export function buildZip(entries: ZipEntryInput[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8')
    const packed = entry.store ? entry.data : deflateRawSync(entry.data)
    // Traditional PKWARE encryption puts a 12-byte header before the data (APPNOTE 6.1.3);
    // listing needs the sizes to account for it, not real encryption.
    const content = entry.encryptedFlag ? Buffer.concat([Buffer.alloc(12, 0xa5), packed]) : packed
    const method = entry.store ? 0 : 8
    // Bit 11: file name is UTF-8 (APPNOTE 4.4.4); bit 0: encrypted.
    const flags = 0x0800 | (entry.encryptedFlag ? 0x1 : 0)
    const crc = crc32(entry.data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(flags, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(0, 10)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(content.length, 18)
    local.writeUInt32LE(entry.data.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(flags, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(0, 12)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(content.length, 20)
    central.writeUInt32LE(entry.data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, content)
    centrals.push(central, name)
    offset += local.length + name.length + content.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}
