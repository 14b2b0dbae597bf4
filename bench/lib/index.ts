/**
 * The shared benchmark library: every `npm run bench:*` builds on it (see bench/README.md).
 */
export * from './counter-file.js'
export * from './docs-section.js'
export * from './install.js'
export * from './machine.js'
export * from './proc.js'
export * from './report.js'
export * from './scanners.js'
export * from './services.js'
export * from './stats.js'
export * from './table.js'
