import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * Addresses a webhook must not reach unless the operator allows it: loopback, private
 * (RFC 1918, RFC 4193), link-local (cloud metadata services live at 169.254.169.254),
 * carrier-grade NAT, "this network" and the IPv6 equivalents. An analyst who may set a watch's
 * webhook must not be able to make the hub probe its own network.
 */
const INTERNAL = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv6')

export function isInternalAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return isInternalAddress(mapped[1]!)
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (mappedHex) {
    const high = parseInt(mappedHex[1]!, 16)
    const low = parseInt(mappedHex[2]!, 16)
    return isInternalAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`)
  }
  const family = isIP(address)
  if (family === 0) return false
  return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * Refuses a webhook URL whose host is, or resolves to, an internal address. Returns the reason,
 * or null when the target is acceptable.
 */
export async function internalTargetReason(
  url: string,
  resolve: (host: string) => Promise<string[]> = async (host) =>
    (await lookup(host, { all: true, verbatim: true })).map((a) => a.address),
): Promise<string | null> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
  const addresses = isIP(host) ? [host] : await resolve(host)
  const internal = addresses.find(isInternalAddress)
  return internal ? `the webhook host ${host} is an internal address (${internal})` : null
}
