/**
 * docs/AGENT_REGISTRY_API.md and the OpenAPI document describe the same API: every route the service
 * documents in /openapi.json is in the reference (as a `### METHOD /path` heading or a `` `METHOD /path` ``
 * table row), and every route of the reference is in the OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';
import { ROOT } from './module-graph.js';

const REFERENCE = 'docs/AGENT_REGISTRY_API.md';
const METHODS = 'GET|POST|PUT|PATCH|DELETE';

/** `METHOD /path` of every route the reference documents, query strings dropped. */
function documentedRoutes(markdown: string): Set<string> {
  const routes = new Set<string>();
  const patterns = [
    new RegExp(`^###\\s+(${METHODS})\\s+(/\\S*)`, 'gm'),
    new RegExp(`^\\|\\s*\`(${METHODS})\\s+(/[^\`\\s]*)\``, 'gm'),
  ];
  for (const pattern of patterns) {
    for (const match of markdown.matchAll(pattern)) {
      routes.add(`${match[1]} ${match[2]!.split('?')[0]!.replace(/(.)\/$/, '$1')}`);
    }
  }
  return routes;
}

describe('the API reference and the OpenAPI document', () => {
  it('name the same routes', async () => {
    const { call } = await startService();
    const openapi = (await call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const inOpenApi = new Set(
      Object.entries(openapi.paths).flatMap(([route, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`),
      ),
    );
    const inReference = documentedRoutes(readFileSync(path.join(ROOT, REFERENCE), 'utf8'));
    const problems = [
      ...[...inOpenApi]
        .filter((route) => !inReference.has(route))
        .map((route) => `document ${route} in ${REFERENCE} (a "### ${route}" section or a table row)`),
      ...[...inReference]
        .filter((route) => !inOpenApi.has(route))
        .map(
          (route) => `${REFERENCE} documents ${route}, which the service's OpenAPI document does not have`,
        ),
    ];
    expect(problems.sort()).toEqual([]);
    expect(inReference.size).toBeGreaterThan(15);
  });

  it('reads headings and table rows', () => {
    expect([
      ...documentedRoutes(
        '### GET /registry/agents\n| `GET /sessions?user_id=` | |\n| `POST /sessions/{session_id}/history` |\n',
      ),
    ]).toEqual(['GET /registry/agents', 'GET /sessions', 'POST /sessions/{session_id}/history']);
  });
});
