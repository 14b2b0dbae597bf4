// Builds the two consoles and the ribbon bundle in one process (see README.md).
import { copyFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const common = {
  configFile: false,
  logLevel: 'warn',
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  define: { 'process.env.NODE_ENV': '"production"' },
}

for (const app of ['gateway', 'hub']) {
  await build({
    ...common,
    root: here(`./src/${app}`),
    build: {
      outDir: here(`./dist/${app}`),
      emptyOutDir: true,
      target: 'es2022',
      chunkSizeWarningLimit: 2048,
    },
  })
}

// The ribbon is one classic script any page can embed with a script tag: no module loader,
// its styles inside its shadow root.
await build({
  ...common,
  build: {
    outDir: here('./dist/hub'),
    emptyOutDir: false,
    target: 'es2022',
    lib: {
      entry: here('./src/ribbon/embed.tsx'),
      formats: ['iife'],
      name: 'PosternRibbon',
      fileName: () => 'ribbon.js',
    },
  },
})
copyFileSync(here('./dist/hub/ribbon.js'), here('./dist/gateway/ribbon.js'))
