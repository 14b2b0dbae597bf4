/**
 * CTIM vocabularies (CTIM 1.3.x `schemas/vocabularies.cljc` and `schemas/common.cljc`). Closed
 * vocabularies are validated exactly; open ones (marked "open" in CTIM) accept any string and are
 * listed here for consoles and pickers.
 */

/** The CTIM schema version Postern writes (`schema_version` of entities it creates). */
export const CTIM_SCHEMA_VERSION = '1.3.29'

/** Traffic Light Protocol markings CTIM accepts; `green` is the default. */
export const TLP_VALUES = ['red', 'amber', 'green', 'white'] as const
export type Tlp = (typeof TLP_VALUES)[number]
export const DEFAULT_TLP: Tlp = 'green'

/** `HighMedLow`: the confidence vocabulary. */
export const CONFIDENCE_VALUES = ['Info', 'Low', 'Medium', 'High', 'None', 'Unknown'] as const
export type Confidence = (typeof CONFIDENCE_VALUES)[number]

/** `Severity`: confidence plus `Critical`. */
export const SEVERITY_VALUES = [
  'Info',
  'Low',
  'Medium',
  'High',
  'None',
  'Unknown',
  'Critical',
] as const
export type Severity = (typeof SEVERITY_VALUES)[number]

/** Disposition numbers and their names (`disposition-map`). */
export const DISPOSITIONS = {
  1: 'Clean',
  2: 'Malicious',
  3: 'Suspicious',
  4: 'Common',
  5: 'Unknown',
} as const
export type DispositionNumber = keyof typeof DISPOSITIONS
export type DispositionName = (typeof DISPOSITIONS)[DispositionNumber]
export const DISPOSITION_NUMBERS = [1, 2, 3, 4, 5] as const
export const DISPOSITION_NAMES = ['Clean', 'Malicious', 'Suspicious', 'Common', 'Unknown'] as const

/**
 * The disposition number for a name.
 *
 * @example
 * dispositionNumber('Malicious') // 2
 */
export function dispositionNumber(name: DispositionName): DispositionNumber {
  return (DISPOSITION_NAMES.indexOf(name) + 1) as DispositionNumber
}

/** Incident statuses (`Status`). `Stalled` is deprecated in favour of `Hold` but still valid. */
export const INCIDENT_STATUSES = [
  'New',
  'New: Processing',
  'New: Presented',
  'Open',
  'Open: Investigating',
  'Open: Reported',
  'Open: Contained',
  'Open: Recovered',
  'Hold',
  'Hold: Internal',
  'Hold: External',
  'Hold: Legal',
  'Stalled',
  'Containment Achieved',
  'Restoration Achieved',
  'Incident Reported',
  'Closed',
  'Closed: Under Review',
  'Closed: Confirmed Threat',
  'Closed: Suspected',
  'Closed: False Positive',
  'Closed: Near-Miss',
  'Closed: Other',
  'Rejected',
] as const
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number]

/** Incident categories (open vocabulary). */
export const INCIDENT_CATEGORIES = [
  'Exercise/Network Defense Testing',
  'Unauthorized Access',
  'Denial of Service',
  'Malicious Code',
  'Improper Usage',
  'Scans/Probes/Attempted Access',
  'Investigation',
  'Exercise',
  'Root Level',
  'User Level',
  'Unsuccessful',
  'Attrition',
  'Non-Compliant',
  'Reconnaissance',
  'Malicious Logic',
  'Investigating',
  'Explained Anomaly',
  'eDiscovery',
  'Forensics',
  'Intelligence',
] as const

/** Sighting resolutions (open vocabulary, default `detected`). */
export const RESOLUTIONS = ['detected', 'blocked', 'allowed', 'contained'] as const
export const DEFAULT_RESOLUTION = 'detected'

/** Relationship types (open vocabulary). */
export const RELATIONSHIP_TYPES = [
  'attributed-to',
  'based-on',
  'derived-from',
  'detects',
  'duplicate-of',
  'element-of',
  'exploits',
  'indicates',
  'member-of',
  'mitigates',
  'related-to',
  'sighting-of',
  'subtechnique-of',
  'targets',
  'technique-of',
  'uses',
  'variant-of',
  'phase-of',
  'task-of',
] as const

/** Sensor / actuator names (open vocabulary) for sighting `sensor` and target `type`. */
export const SENSORS = [
  'endpoint',
  'endpoint.digital-telephone-handset',
  'endpoint.laptop',
  'endpoint.pos-terminal',
  'endpoint.printer',
  'endpoint.sensor',
  'endpoint.server',
  'endpoint.smart-meter',
  'endpoint.smart-phone',
  'endpoint.tablet',
  'endpoint.workstation',
  'network',
  'network.bridge',
  'network.firewall',
  'network.gateway',
  'network.guard',
  'network.hips',
  'network.hub',
  'network.ids',
  'network.ips',
  'network.modem',
  'network.nic',
  'network.proxy',
  'network.router',
  'network.security_manager',
  'network.sense_making',
  'network.sensor',
  'network.switch',
  'network.vpn',
  'network.wap',
  'process',
  'process.aaa-server',
  'process.anti-virus-scanner',
  'process.connection-scanner',
  'process.directory-service',
  'process.dns-server',
  'process.email-service',
  'process.file-scanner',
  'process.location-service',
  'process.network-scanner',
  'process.remediation-service',
  'process.reputation-service',
  'process.sandbox',
  'process.virtualization-service',
  'process.vulnerability-scanner',
] as const

/**
 * Observed relations inside a sighting (`ObservableRelationType`): a closed list, CTIM 1.3.x plus
 * `Leaked_From`.
 */
export const OBSERVED_RELATIONS = [
  'Allocated',
  'Allocated_By',
  'Attached_To',
  'Bound',
  'Bound_By',
  'Characterized_By',
  'Characterizes',
  'Child_Of',
  'Closed',
  'Closed_By',
  'Compressed',
  'Compressed_By',
  'Compressed_From',
  'Compressed_Into',
  'Connected_From',
  'Connected_To',
  'Contained_Within',
  'Contains',
  'Copied',
  'Copied_By',
  'Copied_From',
  'Copied_To',
  'Created',
  'Created_By',
  'Decoded',
  'Decoded_By',
  'Decompressed',
  'Decompressed_By',
  'Decrypted',
  'Decrypted_By',
  'Deleted',
  'Deleted_By',
  'Deleted_From',
  'Downloaded',
  'Downloaded_By',
  'Downloaded_From',
  'Downloaded_To',
  'Dropped',
  'Dropped_By',
  'Encoded',
  'Encoded_By',
  'Encrypted',
  'Encrypted_By',
  'Encrypted_From',
  'Encrypted_To',
  'Extracted_From',
  'FQDN_Of',
  'Freed',
  'Freed_By',
  'Hooked',
  'Hooked_By',
  'Initialized_By',
  'Initialized_To',
  'Injected',
  'Injected_As',
  'Injected_By',
  'Injected_Into',
  'Installed',
  'Installed_By',
  'Joined',
  'Joined_By',
  'Killed',
  'Killed_By',
  'Leaked_From',
  'Listened_On',
  'Listened_On_By',
  'Loaded_From',
  'Loaded_Into',
  'Locked',
  'Locked_By',
  'Mapped_By',
  'Mapped_Into',
  'Merged',
  'Merged_By',
  'Modified_Properties_Of',
  'Monitored',
  'Monitored_By',
  'Moved',
  'Moved_By',
  'Moved_From',
  'Moved_To',
  'Opened',
  'Opened_By',
  'Packed',
  'Packed_By',
  'Packed_From',
  'Packed_Into',
  'Parent_Of',
  'Paused',
  'Paused_By',
  'Previously_Contained',
  'Properties_Modified_By',
  'Properties_Queried',
  'Properties_Queried_By',
  'Read_From',
  'Read_From_By',
  'Received',
  'Received_By',
  'Received_From',
  'Received_Via_Upload',
  'Redirects_To',
  'Refers_To',
  'Related_To',
  'Renamed',
  'Renamed_By',
  'Renamed_From',
  'Renamed_To',
  'Resolved_To',
  'Resumed',
  'Resumed_By',
  'Root_Domain_Of',
  'Searched_For',
  'Searched_For_By',
  'Sent',
  'Sent_By',
  'Sent_To',
  'Sent_Via_Upload',
  'Set_From',
  'Set_To',
  'Sub-domain_Of',
  'Supra-domain_Of',
  'Suspended',
  'Suspended_By',
  'Unhooked',
  'Unhooked_By',
  'Unlocked',
  'Unlocked_By',
  'Unpacked',
  'Unpacked_By',
  'Uploaded',
  'Uploaded_By',
  'Uploaded_From',
  'Uploaded_To',
  'Used',
  'Used_By',
  'Values_Enumerated',
  'Values_Enumerated_By',
  'Written_To_By',
  'Wrote_To',
] as const
export type ObservedRelationType = (typeof OBSERVED_RELATIONS)[number]

/** CTIA entity types served under `/ctia/{entity}` (reference §2). */
export const CTIA_ENTITY_TYPES = [
  'actor',
  'asset',
  'asset-mapping',
  'asset-properties',
  'attack-pattern',
  'campaign',
  'casebook',
  'coa',
  'data-table',
  'feedback',
  'identity-assertion',
  'incident',
  'indicator',
  'investigation',
  'judgement',
  'malware',
  'relationship',
  'sighting',
  'target-record',
  'tool',
  'verdict',
  'vulnerability',
  'weakness',
] as const
export type CtiaEntityType = (typeof CTIA_ENTITY_TYPES)[number]
