/**
 * Builds the admin web UI (this folder) into dist/ui, served by the service at /ui (src/api/ui-routes.ts).
 * Everything is bundled: the page loads nothing from another origin and works offline. Each emitted file
 * also gets a brotli and a gzip copy beside it, which the service sends to clients that accept them.
 */
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Files smaller than this are sent as they are: compression would barely pay for its header. */
const COMPRESS_FROM_BYTES = 512;

function precompress(): Plugin {
  return {
    name: 'agent-registry:precompress',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        const source = file.type === 'chunk' ? file.code : file.source;
        const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : Buffer.from(source);
        if (bytes.length < COMPRESS_FROM_BYTES || file.fileName.endsWith('.json')) continue;
        this.emitFile({
          type: 'asset',
          fileName: `${file.fileName}.br`,
          source: brotliCompressSync(bytes, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 11,
              [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
            },
          }),
        });
        this.emitFile({
          type: 'asset',
          fileName: `${file.fileName}.gz`,
          source: gzipSync(bytes, { level: 9 }),
        });
      }
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  publicDir: false,
  plugins: [precompress()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // The manifest marks the folder as a built UI for the service (src/api/ui-routes.ts).
    manifest: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
