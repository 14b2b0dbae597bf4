import { Command } from '@postern/cli-kit'
import {
  apiClientCommand,
  keysCommand,
  orgCommand,
  tokenCommand,
  userCommand,
} from './admin-commands.js'
import { runHub } from './run.js'

/** `postern hub …`: runs the threat response hub and administers it. */
export function hubCommand(): Command {
  return new Command('hub')
    .description('Run or administer the Postern threat response hub')
    .configureHelp({ showGlobalOptions: true })
    .option('-c, --config <file>', 'configuration file (YAML); POSTERN_* variables override it')
    .action((options: { config?: string }) => runHub(options))
    .addCommand(orgCommand())
    .addCommand(userCommand())
    .addCommand(tokenCommand())
    .addCommand(apiClientCommand())
    .addCommand(keysCommand())
}
