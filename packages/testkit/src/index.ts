export * from './require-component.js'
export * from './ports.js'
export * from './processes.js'
export * from './temp.js'
