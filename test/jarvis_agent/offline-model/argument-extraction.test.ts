import type { Content } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { ConversationHistory, recordsOf } from '../../../jarvis_agent/offline-model/conversation-history.js';
import {
  extractArguments,
  findDays,
  findEnumValue,
  findFreeText,
  findNumber,
  findOrdinal,
  findPeriod,
  refersBack,
} from '../../../jarvis_agent/offline-model/extract-arguments.js';
import { MIN_TOOL_SCORE, rankTools, selectTool } from '../../../jarvis_agent/offline-model/select-tool.js';
import {
  type ParamSpec,
  readToolSpec,
  readToolSpecs,
  type ToolSpec,
} from '../../../jarvis_agent/offline-model/tool-specs.js';
import { stem, tokenize } from '../../../src/text/text-analysis.js';

const TODAY = new Date('2025-06-12T00:00:00Z');
const NO_HISTORY = new ConversationHistory([]);
const context = (contents: Content[] = []) => ({ today: TODAY, history: new ConversationHistory(contents) });

function param(overrides: Partial<ParamSpec> & { name: string }): ParamSpec {
  return {
    description: '',
    type: 'string',
    enumValues: [],
    patterns: [],
    required: false,
    minimum: undefined,
    maximum: undefined,
    ...overrides,
  };
}

function tool(name: string, description: string, params: ParamSpec[] = []): ToolSpec {
  return { name, description, params };
}

const PERIOD = param({
  name: 'period',
  enumValues: ['this_month', 'last_month'],
  patterns: ['^\\d{4}-\\d{2}$'],
});
const PLAIN_MONTH = param({ name: 'month' });

describe('tokenize', () => {
  it('drops stopwords and maps inflections to one stem', () => {
    expect(tokenize('Show me my open tickets!')).toEqual(['open', 'ticket']);
    const same = (a: string, b: string) => expect(stem(a)).toBe(stem(b));
    same('courses', 'course');
    same('enrolments', 'enrolled');
    same('enroll', 'enrol');
    same('deadlines', 'deadline');
    same('closed', 'close');
    same('priorities', 'priority');
    same('drivers', 'driving');
    same('spent', 'spend');
    same('increase', 'growth');
    same('boxes', 'box');
    expect(stem('status')).toBe('status');
    expect(stem('2025')).toBe('2025');
    expect(stem('Wi')).toBe('wi');
  });
});

describe('readToolSpecs', () => {
  it('reads Gemini and JSON-schema declarations, merging anyOf branches', () => {
    const specs = readToolSpecs({
      config: {
        tools: [
          { googleSearch: {} },
          {
            functionDeclarations: [
              {
                name: 'a',
                description: 'A tool',
                parameters: {
                  type: 'OBJECT' as never,
                  properties: {
                    period: {
                      description: 'When',
                      anyOf: [
                        { type: 'STRING' as never, enum: ['this_month'] },
                        { type: 'STRING' as never, pattern: '^\\d{4}-\\d{2}$' },
                      ],
                    },
                    n: { type: 'INTEGER' as never, minimum: '1' as never, maximum: 9 },
                  },
                  required: ['n'],
                },
              },
              {
                name: 'b',
                parametersJsonSchema: {
                  type: 'object',
                  properties: { flag: { type: ['boolean', 'null'] }, x: {} },
                },
              },
              { description: 'no name' },
            ],
          },
        ],
      },
    });
    expect(specs.map((s) => s.name)).toEqual(['a', 'b']);
    expect(specs[0]?.params).toEqual([
      param({
        name: 'period',
        description: 'When',
        enumValues: ['this_month'],
        patterns: ['^\\d{4}-\\d{2}$'],
      }),
      param({ name: 'n', type: 'integer', required: true, minimum: 1, maximum: 9 }),
    ]);
    expect(specs[1]?.params.map((p) => p.type)).toEqual(['boolean', 'unknown']);
    expect(readToolSpecs({})).toEqual([]);
    expect(readToolSpec({ name: 'c' })).toEqual({ name: 'c', description: '', params: [] });
    expect(readToolSpec('nope')).toBeUndefined();
  });
});

describe('argument finders', () => {
  it('finds enum values, multi-word ones too, but not a verb before an article', () => {
    const statuses = ['open', 'in_progress', 'resolved', 'closed'];
    expect(findEnumValue('show tickets in progress', statuses)).toBe('in_progress');
    expect(findEnumValue('any closed or open ones?', statuses)).toBe('closed');
    expect(findEnumValue('open a ticket for me', statuses)).toBeUndefined();
    expect(findEnumValue('nothing here', statuses)).toBeUndefined();
    expect(findEnumValue('x', ['', '--'])).toBeUndefined();
  });

  it('resolves calendar months against today', () => {
    expect(findPeriod('spend last month', PERIOD, TODAY)).toBe('last_month');
    expect(findPeriod('spend in the current month', PERIOD, TODAY)).toBe('this_month');
    expect(findPeriod('month-to-date cost', PERIOD, TODAY)).toBe('this_month');
    expect(findPeriod('spend last month', PLAIN_MONTH, TODAY)).toBe('2025-05');
    expect(findPeriod('spend this month', PLAIN_MONTH, TODAY)).toBe('2025-06');
    expect(findPeriod('cost for 2024-11 please', PERIOD, TODAY)).toBe('2024-11');
    expect(findPeriod('costs in March', PERIOD, TODAY)).toBe('2025-03');
    expect(findPeriod('costs in sept.', PERIOD, TODAY)).toBe('2024-09');
    expect(findPeriod('December 2023 costs', PERIOD, TODAY)).toBe('2023-12');
    expect(findPeriod('may I see the costs', PERIOD, TODAY)).toBeUndefined();
    expect(findPeriod('costs in May', PERIOD, TODAY)).toBe('2025-05');
    expect(findPeriod('costs two months ago', PERIOD, TODAY)).toBe('2025-04');
    expect(findPeriod('costs 7 months ago', PERIOD, TODAY)).toBe('2024-11');
    expect(findPeriod('costs please', PERIOD, TODAY)).toBeUndefined();
    expect(findPeriod('last month', PLAIN_MONTH, new Date('2025-01-15T00:00:00Z'))).toBe('2024-12');
  });

  it('reads durations in days and plain numbers', () => {
    expect(findDays('due this week')).toBe(7);
    expect(findDays('due next week')).toBe(14);
    expect(findDays('in the next 10 days')).toBe(10);
    expect(findDays('within three weeks')).toBe(21);
    expect(findDays('2 months')).toBe(60);
    expect(findDays('a fortnight')).toBe(14);
    expect(findDays('next month')).toBe(60);
    expect(findDays('this month')).toBe(30);
    expect(findDays('tomorrow')).toBe(1);
    expect(findDays('today')).toBe(0);
    expect(findDays('soon')).toBeUndefined();
    expect(findNumber('top 5 drivers')).toBe(5);
    expect(findNumber('top five drivers')).toBe(5);
    expect(findNumber('ratio 2.5 please')).toBe(2.5);
    expect(findNumber('INC-1002 in 2025-06 of 2024')).toBeUndefined();
    expect(findNumber('drivers two months ago, top 4')).toBe(4);
  });

  it('finds ordinals and references back', () => {
    expect(findOrdinal('the second one')).toBe(1);
    expect(findOrdinal('show the 3rd')).toBe(2);
    expect(findOrdinal('and the last one?')).toBe(-1);
    expect(findOrdinal('spend last month')).toBeUndefined();
    expect(findOrdinal('item #4')).toBe(3);
    expect(findOrdinal('number 2 please')).toBe(1);
    expect(findOrdinal('nothing')).toBeUndefined();
    expect(refersBack('show details')).toBe(true);
    expect(refersBack('what about it')).toBe(true);
    expect(refersBack('list all tickets')).toBe(false);
  });

  it('finds free text for a summary: quoted, after a colon or preposition, or the whole statement', () => {
    const create = tool('create_ticket', 'Create a new support ticket', [
      param({ name: 'title', required: true, description: 'Summary' }),
    ]);
    expect(findFreeText('create a ticket "Printer is on fire"', create)).toBe('Printer is on fire');
    expect(findFreeText('create a ticket: printer jams.', create)).toBe('Printer jams');
    expect(findFreeText('create a ticket about the broken chair', create)).toBe('The broken chair');
    expect(findFreeText('my monitor flickers badly', create)).toBe('My monitor flickers badly');
    expect(findFreeText('create a ticket for me', create)).toBeUndefined();
    expect(findFreeText('has anyone fixed my monitor flicker?', create)).toBeUndefined();
  });
});

describe('extractArguments', () => {
  const books = tool('find_books', 'Find books', [
    param({ name: 'genre', enumValues: ['fiction', 'history'] }),
    param({ name: 'limit', type: 'integer', minimum: 1, maximum: 10 }),
    param({ name: 'days', type: 'integer', description: 'Look-ahead in days', minimum: 1 }),
    param({ name: 'ratio', type: 'number' }),
    param({ name: 'available', type: 'boolean' }),
    param({ name: 'period', enumValues: ['this_month', 'last_month'] }),
    param({ name: 'note' }),
  ]);

  it('fills parameters by their schema and clamps numbers to bounds', () => {
    const result = extractArguments('history books available, top 50, due today', books, context());
    expect(result.args).toEqual({ genre: 'history', limit: 10, days: 1, ratio: 50, available: true });
    expect(result.fromQuery).toEqual(['genre', 'limit', 'days', 'ratio', 'available']);
    expect(result.missing).toEqual([]);
    expect(extractArguments('fiction from last month, next 3 weeks', books, context()).args).toEqual({
      genre: 'fiction',
      days: 21,
      period: 'last_month',
    });
    expect(extractArguments('books not available', books, context()).args).toEqual({ available: false });
  });

  it('takes an identifier from the query, checked against the pattern', () => {
    const get = tool('get_order', 'One order', [
      param({ name: 'order_id', required: true, patterns: ['^PO-\\d+$'] }),
    ]);
    expect(extractArguments('order INC-1 and PO-77', get, context()).args).toEqual({ order_id: 'PO-77' });
    const missing = extractArguments('order INC-1', get, context());
    expect(missing.missing.map((p) => p.name)).toEqual(['order_id']);
    const badPattern = tool('get', 'x', [param({ name: 'id', required: true, patterns: ['(['] })]);
    expect(extractArguments('get AB-12', badPattern, context()).args).toEqual({ id: 'AB-12' });
  });

  it('takes identifiers from earlier results only when the query refers back', () => {
    const listing: Content[] = [
      { role: 'user', parts: [{ text: 'list orders' }] },
      { role: 'model', parts: [{ functionCall: { name: 'list_orders', args: {} } }] },
      {
        role: 'user',
        parts: [
          {
            functionResponse: {
              name: 'list_orders',
              response: { orders: [{ order_id: 'PO-1' }, { order_id: 'PO-2' }] },
            },
          },
        ],
      },
      { role: 'model', parts: [{ text: 'two orders' }] },
    ];
    const get = tool('get_order', 'One order', [param({ name: 'order_id', required: true })]);
    const ask = (text: string) =>
      extractArguments(text, get, context([...listing, { role: 'user', parts: [{ text }] }]));
    expect(ask('the second one').args).toEqual({ order_id: 'PO-2' });
    expect(ask('the second one').fromHistory).toEqual(['order_id']);
    expect(ask('show details').ambiguous?.candidates).toEqual(['PO-1', 'PO-2']);
    expect(ask('cancel an order').missing.map((p) => p.name)).toEqual(['order_id']);
    expect(ask('the fifth one').ambiguous?.candidates).toEqual(['PO-1', 'PO-2']);
  });

  it('reads listings and single records out of tool results', () => {
    expect(recordsOf({ count: 2, items: [{ id: 'A-11' }, 'x', { id: 'B-22' }] })).toEqual([
      { id: 'A-11' },
      { id: 'B-22' },
    ]);
    expect(recordsOf({ tags: ['a'] })).toEqual([]);
    const single: Content[] = [
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get', response: { ticket: { id: 'INC-77', x: 1 } } } }],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'noise', response: { total: 3 } } }] },
      { role: 'user', parts: [{ text: 'that one' }] },
    ];
    expect(new ConversationHistory(single).recentRecords()).toEqual([{ id: 'INC-77', x: 1 }]);
    expect(new ConversationHistory(single).recentRecords(true)).toEqual([]);
    expect(NO_HISTORY.recentIdsInText()).toEqual([]);
    expect(NO_HISTORY.previousToolName()).toBeUndefined();
  });
});

describe('selectTool', () => {
  const tools = [
    tool('list_tickets', 'List support tickets, filtered by status', [
      param({ name: 'status', enumValues: ['open', 'closed'] }),
    ]),
    tool('get_ticket_details', 'Full details of one ticket', [param({ name: 'ticket_id', required: true })]),
    tool('create_ticket', 'Create (open, raise) a new ticket', [param({ name: 'title', required: true })]),
  ];

  it('prefers the tool whose words, values and identifiers the query uses', () => {
    const pick = (query: string) => selectTool(query, tools, context())?.tool.name;
    expect(pick('show my open tickets')).toBe('list_tickets');
    expect(pick('status of INC-1002')).toBe('get_ticket_details');
    expect(pick('open a ticket: the printer is jammed')).toBe('create_ticket');
    expect(pick('raise a ticket')).toBe('create_ticket');
    expect(pick('how is the weather')).toBeUndefined();
    expect(selectTool('anything', [], context())).toBeUndefined();
  });

  it('ranks every tool deterministically, with ties going to the tool declared first', () => {
    const twins = [tool('alpha_report', 'Weekly report'), tool('beta_report', 'Weekly report')];
    const ranked = rankTools('weekly report', twins, context());
    expect(ranked.map((c) => c.tool.name)).toEqual(['alpha_report', 'beta_report']);
    expect(ranked[0]?.score).toBe(ranked[1]?.score);
    expect(ranked[0]?.score).toBeGreaterThanOrEqual(MIN_TOOL_SCORE);
  });

  it('keeps a follow-up with the tool the conversation is about', () => {
    const spend = [
      tool('get_spend', 'Spend in a month', [PERIOD]),
      tool('top_drivers', 'Top drivers in a month', [PERIOD]),
    ];
    const history: Content[] = [
      { role: 'user', parts: [{ text: 'top drivers this month' }] },
      { role: 'model', parts: [{ functionCall: { name: 'top_drivers', args: { period: 'this_month' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'top_drivers', response: { drivers: [] } } }] },
      { role: 'model', parts: [{ text: 'none' }] },
      { role: 'user', parts: [{ text: 'what about last month?' }] },
    ];
    expect(selectTool('what about last month?', spend, context(history))?.tool.name).toBe('top_drivers');
    expect(selectTool('what about last month?', spend, context())?.tool.name).toBe('get_spend');
  });
});
