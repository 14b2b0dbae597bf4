import { Command } from '@postern/cli-kit'
import {
  cloudServiceConfigCommand,
  clusterCommand,
  loadCloudHost,
  openCloudContext,
} from '../cloud/index.js'

const openCloud = async (configFile: string | undefined) =>
  openCloudContext({ host: loadCloudHost(configFile) })

/** `postern gateway …`: runs the gateway and operates a running one. */
export function gatewayCommand(): Command {
  return new Command('gateway')
    .description('Run or operate the Postern email security gateway')
    .addCommand(cloudServiceConfigCommand(openCloud))
    .addCommand(clusterCommand(openCloud))
}
