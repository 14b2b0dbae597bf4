/** Where the built console of `app` is (`npm run build` writes it). */
export declare function consoleDir(app: 'gateway' | 'hub'): string
