import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

/** Every endpoint of CONTRACT.md, plus the listing of sessions and the ADK session routes. */
const CONTRACT_ROUTES = [
  'get /',
  'get /health',
  'get /health/ready',
  'get /metrics',
  'get /registry/agents',
  'post /registry/agents',
  'get /registry/agents/{agent_name}',
  'delete /registry/agents/{agent_name}',
  'put /registry/agents/{agent_name}/capabilities',
  'patch /registry/agents/{agent_name}/status',
  'get /registry/agents/{agent_name}/card',
  'post /registry/agents/{agent_name}/refresh',
  'get /registry/export',
  'get /registry/changes',
  'post /registry/route',
  'get /registry/decisions',
  'post /registry/route/replay',
  'get /registry/agents/{agent_name}/versions',
  'get /registry/agents/{agent_name}/versions/{version}',
  'post /registry/agents/{agent_name}/rollback',
  'post /sessions',
  'get /sessions',
  'get /sessions/{session_id}',
  'delete /sessions/{session_id}',
  'post /sessions/{session_id}/invocations',
  'post /sessions/{session_id}/history',
  'patch /sessions/{session_id}/status',
  'put /sessions/{session_id}/adk/{app_name}',
  'get /sessions/{session_id}/adk/{app_name}',
  'post /sessions/{session_id}/adk/{app_name}/events',
  'get /adk/apps/{app_name}/sessions',
];

interface Media {
  schema: unknown;
  example?: unknown;
  examples?: Record<string, unknown>;
}

interface Operation {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
  security?: unknown[];
}

/** @fastify/swagger moves schema examples to the media object, where Swagger UI shows them. */
const hasExample = (media: Media | undefined) =>
  media !== undefined && (media.example !== undefined || Object.keys(media.examples ?? {}).length > 0);

describe('OpenAPI document', () => {
  it('lists every route of the contract, and nothing undocumented', async () => {
    const { call } = await startService();
    const { status, body } = await call('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(body.info).toMatchObject({ title: 'Agent Registry Service', version: '1.0.0' });
    const documented = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([route, methods]) => Object.keys(methods).map((method) => `${method} ${route}`),
    );
    expect(documented.sort()).toEqual([...CONTRACT_ROUTES].sort());
  });

  it('has an example for every request body and every response body', async () => {
    const { call } = await startService();
    const { body } = await call('GET', '/openapi.json');
    const missing: string[] = [];
    for (const [route, methods] of Object.entries(body.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation.requestBody && !hasExample(operation.requestBody.content['application/json'])) {
          missing.push(`${method} ${route} request`);
        }
        for (const [code, response] of Object.entries(operation.responses)) {
          const media = response.content?.['application/json'];
          if (media && !hasExample(media)) missing.push(`${method} ${route} ${code}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('marks the mutating registry calls as needing the bearer token', async () => {
    const { call } = await startService();
    const { body } = await call('GET', '/openapi.json');
    const paths = body.paths as Record<string, Record<string, Operation>>;
    expect(body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(paths['/registry/agents']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(paths['/registry/agents/{agent_name}']?.delete?.security).toEqual([{ bearerAuth: [] }]);
    // Reads take the read token or the admin token; sessions the API token; service routes none.
    expect(paths['/registry/agents']?.get?.security).toEqual([{ readToken: [] }, { bearerAuth: [] }]);
    expect(paths['/registry/route']?.post?.security).toEqual([{ readToken: [] }, { bearerAuth: [] }]);
    expect(paths['/sessions/{session_id}']?.get?.security).toEqual([{ apiToken: [] }]);
    expect(paths['/health']?.get?.security).toBeUndefined();
    // The decision log holds user queries: admin or API token; a replay is an operator's: admin token.
    expect(paths['/registry/decisions']?.get?.security).toEqual([{ bearerAuth: [] }, { apiToken: [] }]);
    expect(paths['/registry/route/replay']?.post?.security).toEqual([{ bearerAuth: [] }]);
  });
});

describe('/docs', () => {
  it('serves the interactive docs with every asset local (works with no internet)', async () => {
    const { call, url } = await startService();
    const page = await call('GET', '/docs');
    expect(page.status).toBe(200);
    const html = String(page.body);
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      const target = new URL(asset, `${url}/docs/`);
      expect(target.origin).toBe(url);
      const response = await fetch(target);
      expect(response.status, asset).toBe(200);
      await response.arrayBuffer();
    }
    const init = await fetch(`${url}/docs/swagger-initializer.js`);
    expect(await init.text()).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });
});
