import { cloudErrors } from './errors.js'

/** A relay-module endpoint of the gateway: JSON body in, JSON reply out (reference §4). */
export type ModuleHandler = (body: unknown, signal: AbortSignal) => Promise<unknown>

/**
 * The gateway's relay-module endpoints the hub calls through the tunnel (`module.call`). The
 * connector answers `/health` itself; the email-gateway module registers the observe,
 * deliberate, refer and respond endpoints here.
 */
export class ModuleRegistry {
  private readonly handlers = new Map<string, ModuleHandler>()

  constructor(version: string) {
    this.register('/health', async () => ({ data: { status: 'ok', version } }))
  }

  register(path: string, handler: ModuleHandler): void {
    this.handlers.set(path, handler)
  }

  async call(path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const handler = this.handlers.get(path)
    if (!handler) throw cloudErrors.MODULE_UNKNOWN({ path })
    return handler(body, signal)
  }
}
