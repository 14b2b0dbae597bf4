export { hubCommand } from './cli/index.js'
