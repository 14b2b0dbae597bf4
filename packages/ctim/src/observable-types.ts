/**
 * The CTIM observable type vocabulary (`ObservableTypeIdentifier`, CTIM schema 1.3.29,
 * `schemas/vocabularies.cljc`; the same enum appears in the IROH inspect swagger). Closed: an
 * observable of any other type is refused by CTIA, so it is refused here too.
 */
export const OBSERVABLE_TYPES = [
  'acudid',
  'amp_computer_guid',
  'certificate_common_name',
  'certificate_issuer',
  'certificate_serial',
  'cisco_cm_id',
  'cisco_mid',
  'cisco_uc_id',
  'cortex_agent_id',
  'crowdstrike_id',
  'cvm_id',
  'cybereason_id',
  'darktrace_id',
  'device',
  'domain',
  'email',
  'email_messageid',
  'email_subject',
  'file_name',
  'file_path',
  'google_chromebook_id',
  'google_cloud_id',
  'hostname',
  'imei',
  'imsi',
  'intune_id',
  'ip',
  'ipv6',
  'jamf_management_id',
  'mac_address',
  'md5',
  'meraki_network_id',
  'meraki_node_sn',
  'meraki_org_id',
  'ms_machine_id',
  'mutex',
  'ngfw_id',
  'ngfw_name',
  'odns_identity',
  'odns_identity_label',
  'orbital_node_id',
  'pki_serial',
  'process_args',
  'process_hash',
  'process_name',
  'process_path',
  'process_uid',
  'process_username',
  'processor_id',
  'registry_key',
  'registry_name',
  'registry_path',
  's1_agent_id',
  'secure_access_id',
  'serial_number',
  'service_now_id',
  'sha1',
  'sha256',
  'swc_device_id',
  'trend_micro_id',
  'url',
  'user',
  'user_agent',
] as const

/** One CTIM observable type, e.g. `'domain'`. */
export type ObservableType = (typeof OBSERVABLE_TYPES)[number]

/** A CTIM observable: an atomic value with a type (`{type, value}`). */
export interface Observable {
  type: ObservableType
  value: string
}

const TYPE_SET: ReadonlySet<string> = new Set(OBSERVABLE_TYPES)

/**
 * True when `type` is in the CTIM vocabulary.
 *
 * @example
 * isObservableType('sha256') // true
 * isObservableType('hash')   // false
 */
export function isObservableType(type: unknown): type is ObservableType {
  return typeof type === 'string' && TYPE_SET.has(type)
}

/**
 * Human labels for the types an analyst meets most, for consoles and reports. Types without an
 * entry are shown by their identifier.
 */
export const OBSERVABLE_TYPE_LABELS: Partial<Record<ObservableType, string>> = {
  cisco_mid: 'Cisco Message ID (MID)',
  domain: 'Domain',
  email: 'Email address',
  email_messageid: 'Email Message-ID',
  email_subject: 'Email subject',
  file_name: 'File name',
  file_path: 'File path',
  hostname: 'Hostname',
  ip: 'IP address',
  ipv6: 'IPv6 address',
  mac_address: 'MAC address',
  md5: 'MD5',
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  url: 'URL',
  user: 'User',
  user_agent: 'User agent',
}
