import { defineErrors } from './errors.js'

/** Errors raised by `@postern/core` itself. */
export const coreErrors = defineErrors('CORE', {
  CONFIG_FILE_UNREADABLE: {
    message: 'Cannot read the configuration file {path}: {reason}',
    hint: 'Check the path given to --config and that the file is readable by this user.',
  },
  CONFIG_FILE_SYNTAX: {
    message: 'The configuration file {path} is not valid YAML: {reason}',
    hint: 'Fix the YAML syntax at the position shown; a YAML linter will point at the same line.',
  },
  CONFIG_INVALID: {
    message: 'The configuration is invalid:\n{issues}',
    hint: 'Fix each key listed above (see docs/configuration.md for every key) and start again.',
  },
  CONFIG_ENV_INVALID: {
    message: 'Environment variable {name} cannot be applied: {reason}',
    hint: 'Use POSTERN_<PATH> with path segments in UPPER_SNAKE case joined by "__", e.g. POSTERN_SPOOL__FSYNC=true.',
  },
  SECRET_KEY_INVALID: {
    message: 'The secret key file {path} is not a 32-byte key',
    hint: 'Restore the key file from backup; without it, encrypted settings cannot be read.',
  },
  SECRET_UNREADABLE: {
    message: 'An encrypted value could not be decrypted',
    hint: 'The value was encrypted with another key; enter the secret again.',
  },
  ADDRESS_INVALID: {
    message: 'Invalid listen address "{value}"',
    hint: 'Write it as host:port, e.g. 0.0.0.0:25 or [::1]:2525; port 0 picks a free port.',
  },
})
