/**
 * @module api/ui-routes
 * `/ui`: the admin web UI, as `npm run build` left it in `dist/ui` (ui/ holds its source). Files are served
 * as built, in the brotli or gzip form the build wrote beside each when the client accepts one; hashed
 * assets are cached for good, the page itself is revalidated every time. The UI only calls the public API.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../errors.js';

export interface UiRoutesOptions {
  /** The built UI: `index.html` and `assets/`. */
  dir: string;
}

/** What marks a directory as a built UI (the source folder `ui/` has an `index.html` too). */
export const UI_BUILD_MARKER = path.join('.vite', 'manifest.json');

/**
 * Where the build puts the UI: `dist/ui`, beside `dist/src` when the service runs from the build, or the
 * project's `dist/ui` when it runs from source (tsx, tests).
 */
export function defaultUiDir(moduleUrl: string = import.meta.url): string {
  const candidates = ['../../ui/', '../../dist/ui/'].map((relative) =>
    fileURLToPath(new URL(relative, moduleUrl)),
  );
  return candidates.find((dir) => existsSync(path.join(dir, UI_BUILD_MARKER))) ?? candidates[0]!;
}

/**
 * The page runs only its own script and style and talks only to this origin; it cannot be framed, and
 * forms and `<base>` cannot send it elsewhere.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Vite names assets `name-<hash>.ext`: such a file never changes under its name. */
const HASHED_ASSET = /[/\\]assets[/\\][^/\\]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+(\.(br|gz))?$/;

export const uiRoutes: FastifyPluginAsync<UiRoutesOptions> = async (app, { dir }) => {
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('content-security-policy', UI_CONTENT_SECURITY_POLICY);
    return payload;
  });

  if (!existsSync(path.join(dir, UI_BUILD_MARKER))) {
    const notBuilt = async () => {
      throw new AppError(
        'not_found',
        `The web UI is not built (no ${path.join(dir, UI_BUILD_MARKER)}): run \`npm run build\`, which writes it to dist/ui.`,
      );
    };
    app.get('/ui', { schema: { hide: true } }, notBuilt);
    app.get('/ui/*', { schema: { hide: true } }, notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/ui/',
    index: ['index.html'],
    preCompressed: true,
    // Dot files (the build manifest) stay private; directories are never listed.
    serveDotFiles: false,
    dotfiles: 'ignore',
    list: false,
    cacheControl: false,
    setHeaders(response, file) {
      response.setHeader(
        'cache-control',
        HASHED_ASSET.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      response.setHeader('vary', 'accept-encoding');
    },
  });
  // The page itself at `/ui` (and `/ui/`: the router ignores a trailing slash).
  app.get('/ui', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
};
