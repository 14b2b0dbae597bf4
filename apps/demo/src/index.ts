import { Command } from '@postern/cli-kit'

/** `postern demo`: a hub and a gateway on SQLite, registered with each other, sample mail flowing. */
export function demoCommand(): Command {
  return new Command('demo').description(
    'Start a hub and a gateway with sample mail flowing (what `npm start` runs)',
  )
}
