/**
 * The router's part of `/health` over HTTP: the "none fits" threshold in use and where it comes from.
 */
import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

describe('/health router section', () => {
  it('reports the threshold fitted from the registry by default', async () => {
    const service = await startService();
    service.service.router.trainNow();
    const { body } = await service.call('GET', '/health');
    expect(body.router).toMatchObject({ agents: 3, trained: true, min_confidence_source: 'fitted' });
    expect(body.router.min_confidence).toBeGreaterThan(0);
    expect(body.router.min_confidence).toBeLessThan(1);
  });

  it('reports ROUTER_MIN_CONFIDENCE when it is set, and routes by it', async () => {
    const service = await startService({ ROUTER_MIN_CONFIDENCE: '1' });
    service.service.router.trainNow();
    const { body } = await service.call('GET', '/health');
    expect(body.router).toMatchObject({ min_confidence: 1, min_confidence_source: 'configured' });
    const routed = await service.call('POST', '/registry/route', { body: { query: 'show my open tickets' } });
    expect(routed.body.selected).toEqual([]);
    expect(routed.body.candidates[0].name).toBe('tickets_agent');
  });
});
