// The entry point of an SMTP process: node:cluster runs this file in each process the
// primary forks (supervisor.ts); the slot and configuration arrive over IPC.
import { runSmtpProcess } from './smtp-process.js'

runSmtpProcess()
