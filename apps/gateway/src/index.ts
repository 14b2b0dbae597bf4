export { gatewayCommand } from './cli/index.js'
