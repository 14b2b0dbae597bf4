/**
 * Exit codes of every postern command (sysexits.h values where one fits, so scripts can tell
 * a usage mistake from a refused operation from a broken environment).
 */
export const EXIT = {
  OK: 0,
  /** The operation ran and failed, or was refused (e.g. a rule forbids it). */
  FAILURE: 1,
  /** Wrong command line: unknown option, missing argument. */
  USAGE: 64,
  /** Input data was invalid (EX_DATAERR). */
  DATA: 65,
  /** A service the command needs is unreachable (EX_UNAVAILABLE). */
  UNAVAILABLE: 69,
  /** Internal error (EX_SOFTWARE). */
  SOFTWARE: 70,
  /** Configuration is invalid (EX_CONFIG). */
  CONFIG: 78,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]
