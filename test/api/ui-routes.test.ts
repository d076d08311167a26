/**
 * Serving the web UI at /ui: a built UI (made here, as the build lays it out) served with its precompressed
 * forms, cache headers, a CSP and the service's security defaults; dot files and paths outside it refused;
 * a clear error when the UI was not built; where the service looks for it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultUiDir, UI_BUILD_MARKER, UI_CONTENT_SECURITY_POLICY } from '../../src/api/ui-routes.js';
import { startService } from '../support/service.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('ui-routes-');

const INDEX =
  '<!doctype html><html lang="en"><head><script type="module" src="/ui/assets/index-AbC_d-12.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

/** A UI folder as `npm run build` leaves it. */
function builtUi(): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'assets'));
  mkdirSync(path.join(dir, '.vite'));
  writeFileSync(path.join(dir, 'index.html'), INDEX);
  writeFileSync(path.join(dir, 'assets', 'index-AbC_d-12.js'), SCRIPT);
  writeFileSync(path.join(dir, 'assets', 'index-AbC_d-12.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(path.join(dir, 'assets', 'index-AbC_d-12.js.gz'), gzipSync(SCRIPT));
  writeFileSync(path.join(dir, 'robots.txt'), 'User-agent: *\nDisallow: /\n');
  writeFileSync(path.join(dir, UI_BUILD_MARKER), '{"index.html": {"file": "assets/index-AbC_d-12.js"}}');
  return dir;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request whose body is not decoded (fetch would undo the content encoding), path sent as written. */
function raw(url: string, pathname: string, headers: Record<string, string> = {}): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: pathname, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /ui', () => {
  it('serves the page at /ui and /ui/, revalidated every time, under a CSP and not frameable', async () => {
    const { url } = await startService({}, undefined, { uiDir: builtUi() });
    for (const pathname of ['/ui', '/ui/', '/ui/index.html']) {
      const page = await raw(url, pathname);
      expect(page.status, pathname).toBe(200);
      expect(page.body.toString()).toBe(INDEX);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      const etag = page.headers.etag as string;
      expect(etag).toBeTruthy();
      expect((await raw(url, pathname, { 'if-none-match': etag })).status).toBe(304);
    }
    expect(UI_CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(UI_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*/);
  });

  it('sends hashed assets brotli- or gzip-compressed when accepted, cached as immutable', async () => {
    const { url } = await startService({}, undefined, { uiDir: builtUi() });
    const asset = '/ui/assets/index-AbC_d-12.js';
    const br = await raw(url, asset, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    expect(br.body.length).toBeLessThan(SCRIPT.length / 4);
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers.vary).toMatch(/accept-encoding/i);

    const gz = await raw(url, asset, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);

    const plain = await raw(url, asset);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    // A file without a content hash in its name may change under it: revalidated.
    const robots = await raw(url, '/ui/robots.txt');
    expect(robots.status).toBe(200);
    expect(robots.headers['cache-control']).toBe('no-cache');
  });

  it('keeps dot files and everything outside the UI folder out of reach, in the error shape', async () => {
    const { url } = await startService({}, undefined, { uiDir: builtUi() });
    for (const pathname of [
      '/ui/.vite/manifest.json',
      '/ui/assets/missing-12345678.js',
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/assets/..%2f..%2fpackage.json',
    ]) {
      const response = await raw(url, pathname);
      expect(response.status, pathname).toBeGreaterThanOrEqual(400);
      expect(response.status, pathname).toBeLessThan(500);
      expect(response.body.toString(), pathname).not.toContain('agent-registry-service');
      expect(JSON.parse(response.body.toString()).error.code, pathname).toMatch(/not_found|validation_error/);
    }
  });

  it('answers 404 saying how to build it when the UI was not built', async () => {
    const { call } = await startService({}, undefined, { uiDir: tempDir() });
    for (const route of ['/ui', '/ui/', '/ui/assets/index-AbC_d-12.js']) {
      const response = await call('GET', route);
      expect(response.status, route).toBe(404);
      expect(response.body.error.code).toBe('not_found');
      expect(response.body.error.message).toMatch(/not built.*npm run build/);
    }
  });

  it('is behind the same Host check as the API (DNS rebinding)', async () => {
    const { url } = await startService({}, undefined, { uiDir: builtUi() });
    const response = await raw(url, '/ui', { host: 'attacker.example' });
    expect(response.status).toBe(421);
    expect(JSON.parse(response.body.toString()).error.code).toBe('misdirected_request');
  });

  it('needs no token for the page itself, while the API it calls still does', async () => {
    const { url, call } = await startService(
      {
        REGISTRY_ADMIN_TOKEN: 'admin-token-0123456789',
        REGISTRY_API_TOKEN: 'api-token-0123456789',
        REGISTRY_READ_TOKEN: 'read-token-0123456789',
      },
      undefined,
      { uiDir: builtUi() },
    );
    expect((await raw(url, '/ui')).status).toBe(200);
    expect((await call('GET', '/registry/agents')).status).toBe(401);
    expect((await call('GET', '/sessions')).status).toBe(401);
  });
});

describe('defaultUiDir', () => {
  it("finds dist/ui beside the build's dist/src, or the project's dist/ui when running from source", () => {
    const root = tempDir();
    const built = path.join(root, 'dist', 'ui');
    mkdirSync(path.join(built, '.vite'), { recursive: true });
    writeFileSync(path.join(built, UI_BUILD_MARKER), '{}');
    // The source folder has an index.html too, but no build marker: it is never served.
    mkdirSync(path.join(root, 'ui'));
    writeFileSync(path.join(root, 'ui', 'index.html'), '<script src="/src/main.tsx"></script>');
    const fromBuild = pathToFileURL(path.join(root, 'dist', 'src', 'api', 'ui-routes.js')).href;
    const fromSource = pathToFileURL(path.join(root, 'src', 'api', 'ui-routes.ts')).href;
    expect(path.resolve(defaultUiDir(fromBuild))).toBe(built);
    expect(path.resolve(defaultUiDir(fromSource))).toBe(built);
    // Nothing built: the build's place, so the error names where the UI is expected.
    const empty = tempDir();
    expect(
      path.resolve(defaultUiDir(pathToFileURL(path.join(empty, 'dist', 'src', 'api', 'x.js')).href)),
    ).toBe(path.join(empty, 'dist', 'ui'));
  });
});
