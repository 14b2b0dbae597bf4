export { Command, Option, InvalidArgumentError } from 'commander'
export * from './exit-codes.js'
export * from './output.js'
export * from './progress.js'
