import { describe, expect, it } from 'vitest';
import {
  bulletLine,
  formatScalar,
  renderFunctionResponse,
} from '../../../jarvis_agent/offline-model/render-response.js';

const render = (response: Record<string, unknown>, args: Record<string, unknown> = {}) =>
  renderFunctionResponse({ name: 'tool_x', response, args });

describe('formatScalar', () => {
  it('formats numbers, booleans, nothing and long strings', () => {
    expect(formatScalar(1234567.891)).toBe('1,234,567.89');
    expect(formatScalar(Number.NaN)).toBe('NaN');
    expect(formatScalar(true)).toBe('yes');
    expect(formatScalar(false)).toBe('no');
    expect(formatScalar(null)).toBe('none');
    expect(formatScalar(undefined)).toBe('none');
    expect(formatScalar('')).toBe('none');
    expect(formatScalar('x'.repeat(400))).toHaveLength(300);
    expect(formatScalar('x'.repeat(400)).endsWith('…')).toBe(true);
  });
});

describe('bulletLine', () => {
  it('leads with the identifier and the label, then a few fields', () => {
    expect(
      bulletLine({ id: 'INC-1', title: 'VPN', status: 'open', tags: ['a', 'b'], owner: { name: 'Priya' } }),
    ).toBe('- INC-1: VPN (status: open, tags: a, b, owner: name Priya)');
    expect(bulletLine({ course_id: 'CRS-1', title: 'SQL' })).toBe('- CRS-1: SQL');
    expect(bulletLine({ ref: 'PO-123', amount: 5 })).toBe('- PO-123 (amount: 5)');
    expect(bulletLine({ service: 'compute', amount_usd: 1500.5 })).toBe('- compute (amount usd: 1,500.5)');
    expect(bulletLine({ a: 1, b: [] })).toBe('- a: 1, b: none');
    expect(bulletLine('plain')).toBe('- plain');
    expect(bulletLine({ id: 'X-11', a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })).toBe(
      '- X-11 (a: 1, b: 2, c: 3, d: 4, e: 5, f: 6)',
    );
  });
});

describe('renderFunctionResponse', () => {
  it('renders an object as key: value lines and its lists as bullets, naming the call', () => {
    const text = render(
      {
        count: 2,
        tickets: [
          { id: 'INC-1', title: 'A' },
          { id: 'INC-2', title: 'B' },
        ],
        tags: ['x'],
        none: [],
      },
      { status: 'open', skipped: undefined },
    );
    expect(text).toBe(
      [
        'Result of tool_x (status: open):',
        'count: 2',
        'tickets (2):',
        '- INC-1: A',
        '- INC-2: B',
        'tags: x',
        'No none found.',
      ].join('\n'),
    );
  });

  it('says empty lists plainly', () => {
    expect(render({ tickets: [{ id: 'INC-1' }].slice(1), count: 0 })).toBe(
      'Result of tool_x:\nNo tickets found.\ncount: 0',
    );
    expect(render({ results: [] })).toBe('Result of tool_x:\nNo results found.');
    expect(render({})).toBe('Result of tool_x:\nIt returned nothing.');
  });

  it('unwraps ADK envelopes for scalar and array results', () => {
    expect(render({ result: 42 })).toBe('Result of tool_x:\n42');
    expect(render({ results: [{ name: 'Central' }, 'x'] })).toBe('Result of tool_x:\n- Central\n- x');
    expect(render({ result: { nested: true } })).toBe('Result of tool_x:\nresult:\n  nested: yes');
  });

  it('nests objects with indentation and compacts deep ones', () => {
    const text = render({
      ticket: { id: 'INC-1', owner: { team: { name: 'IT', lead: 'Sam' } }, history: [{ at: 'd1' }] },
    });
    expect(text).toBe(
      [
        'Result of tool_x:',
        'ticket:',
        '  id: INC-1',
        '  owner:',
        '    team: name IT, lead Sam',
        '  history (1):',
        '  - at: d1',
      ].join('\n'),
    );
  });

  it('reports errors as errors, without ADK\'s "Error in tool" prefix', () => {
    expect(render({ error: "Error in tool 'tool_x': No ticket INC-9" }, { ticket_id: 'INC-9' })).toBe(
      'tool_x (ticket id: INC-9) failed: No ticket INC-9',
    );
    expect(render({ error: { code: 7 } })).toBe('tool_x failed: code 7');
  });
});
