/** Tables of the gateway's cloud-services connector (migration 0400_cloud). */
export interface CloudSettingsTable {
  level: string
  scope: string
  key: string
  /** JSON value. */
  value: string
  updated_at: number
  updated_by: string
}

export interface CloudRegistrationsTable {
  machine: string
  device_id: string
  org_id: string
  device_name: string
  hub_url: string
  tunnel_url: string
  region: string
  mode: string
  cluster_name: string | null
  credential_sealed: string
  registered_at: number
}

export interface CloudStatusTable {
  machine: string
  state: string
  last_error: string | null
  last_error_at: number | null
  connected_since: number | null
  updated_at: number
  events_pushed_through: number
  telemetry_digest: string | null
  telemetry_sent_at: number | null
}

export interface ClusterInfoTable {
  id: number
  name: string
  created_at: number
}

export interface ClusterMembersTable {
  machine: string
  group_name: string
  joined_at: number
}

export interface GatewayCloudSchema {
  cloud_settings: CloudSettingsTable
  cloud_registrations: CloudRegistrationsTable
  cloud_status: CloudStatusTable
  cluster_info: ClusterInfoTable
  cluster_members: ClusterMembersTable
}
