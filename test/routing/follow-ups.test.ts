/**
 * Follow-ups with the product's demo agents, through `POST /registry/route` with a real session: a message
 * that leans on the conversation stays with the session's last agent, unless it names another agent's topic.
 */
import { describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../support/service.js';

async function sessionAfter(service: RunningService, agent: string): Promise<string> {
  const created = await service.call('POST', '/sessions', { body: { user_id: 'alice' } });
  const sessionId = created.body.session_id as string;
  await service.call('POST', `/sessions/${sessionId}/invocations`, {
    body: {
      agent_name: agent,
      query: 'earlier request',
      response: 'earlier answer',
      success: true,
      duration_ms: 5,
    },
  });
  return sessionId;
}

async function route(service: RunningService, query: string, sessionId: string) {
  const response = await service.call('POST', '/registry/route', { body: { query, session_id: sessionId } });
  expect(response.status).toBe(200);
  return response.body as { selected: string[]; follow_up: boolean };
}

describe('follow-ups with the demo agents', () => {
  it.each([
    ['tickets_agent', 'and what did that cost us on cloud last month', 'finops_agent'],
    ['tickets_agent', 'and what about the cloud costs', 'finops_agent'],
    ['tickets_agent', 'ok and how are my courses going', 'oxygen_agent'],
    ['finops_agent', 'and which tickets are still open?', 'tickets_agent'],
    ['finops_agent', 'and which courses are due?', 'oxygen_agent'],
    ['oxygen_agent', 'and my open tickets?', 'tickets_agent'],
    ['oxygen_agent', 'and the cloud bill for that?', 'finops_agent'],
  ])('after %s, %j names another topic: it goes to %s', async (last, query, expected) => {
    const service = await startService();
    const result = await route(service, query, await sessionAfter(service, last));
    expect(result).toMatchObject({ selected: [expected], follow_up: false });
  });

  it.each([
    ['tickets_agent', 'show details'],
    ['tickets_agent', 'and the second one?'],
    ['tickets_agent', 'what about last month?'],
    ['tickets_agent', 'who is assigned to it?'],
    ['finops_agent', 'what about last quarter?'],
    ['finops_agent', 'break that down by service'],
  ])('after %s, %j stays with it', async (last, query) => {
    const service = await startService();
    const result = await route(service, query, await sessionAfter(service, last));
    expect(result).toMatchObject({ selected: [last], follow_up: true });
  });
});
