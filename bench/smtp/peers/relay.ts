import type { Service } from '../../lib/index.js'

/** What the measurement needs from a relay under test. */
export interface RelayInstance {
  /** The SMTP port smtp-source sends to. */
  port: number
  /** The relay's root process: its tree is what CPU and memory are measured on. */
  service: Service
  stop(): Promise<void>
}

export interface RelayStartContext {
  /** A fresh directory for this start (configs, queue, logs). */
  dir: string
  /** Where the relay must deliver: smtp-sink on 127.0.0.1. */
  sinkPort: number
}

export type Availability =
  { available: true; version: string } | { available: false; reason: string }
