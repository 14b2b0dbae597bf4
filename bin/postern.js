#!/usr/bin/env node
// The `postern` command: one entry point for the gateway, the hub and the demo.
import { readFileSync } from 'node:fs'
import { Command } from '@postern/cli-kit'
import { gatewayCommand } from '@postern/gateway/cli'
import { hubCommand } from '@postern/hub/cli'
import { demoCommand } from '@postern/demo'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

const program = new Command('postern')
  .description('Postern: open email security gateway and threat response hub')
  .version(version)
  .addCommand(gatewayCommand())
  .addCommand(hubCommand())
  .addCommand(demoCommand())

await program.parseAsync(process.argv)
