import { Command } from '@postern/cli-kit'

/** `postern hub …`: runs the threat response hub and administers it. */
export function hubCommand(): Command {
  return new Command('hub').description('Run or administer the Postern threat response hub')
}
