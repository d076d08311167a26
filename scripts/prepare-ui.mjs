/**
 * `npm install` and `npm ci` run this (`prepare`): it builds the web UI into dist/ui, as `npm run build`
 * does. A production install (`--omit=dev`, the image's deps stage) has no Vite and no UI source to build,
 * and says so instead of failing; the image's build stage runs the full `npm run build`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const CONFIG = 'ui/vite.config.ts';

function installed(name) {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

if (!installed('vite') || !existsSync(CONFIG)) {
  console.warn('prepare: no Vite or no ui/ source here (a production install): the web UI is not built.');
} else {
  const { build } = await import('vite');
  await build({ configFile: CONFIG, logLevel: 'warn' });
}
