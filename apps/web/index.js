import { fileURLToPath } from 'node:url'

/** Where the built console of `app` is (`npm run build` writes it). */
export function consoleDir(app) {
  return fileURLToPath(new URL(`./dist/${app}`, import.meta.url))
}
