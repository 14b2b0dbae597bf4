import { Command } from '@postern/cli-kit'

/** `postern gateway …`: runs the gateway and operates a running one. */
export function gatewayCommand(): Command {
  return new Command('gateway').description('Run or operate the Postern email security gateway')
}
