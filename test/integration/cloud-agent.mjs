// The gateway's cloud connector as its own process, for the cross-process suite until the
// gateway's composition root runs it: `node cloud-agent.mjs gateway.yaml`.
import { createLogger } from '@postern/core'
import { loadCloudHost, openCloudContext } from '@postern/gateway/cloud'

const ctx = await openCloudContext({
  host: loadCloudHost(process.argv[2]),
  logger: createLogger({ level: 'info', name: 'postern-gateway-cloud' }),
})
ctx.connector().start()
console.log(JSON.stringify({ event: 'CLOUD_AGENT_READY', machine: ctx.cloud.machine }))
const stop = () => ctx.close().then(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
