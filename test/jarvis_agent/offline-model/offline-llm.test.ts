import { FunctionTool, Gemini, LlmAgent, type LlmRequest } from '@google/adk';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDefaultModel } from '../../../jarvis_agent/offline-model/default-model.js';
import {
  OFFLINE_MODEL_MARKER,
  OFFLINE_MODEL_NAME,
  OfflineLlm,
} from '../../../jarvis_agent/offline-model/offline-llm.js';
import { startChat } from './adk-chat.js';

/** A small library domain, unrelated to the demo agents, so the model is tested on its own terms. */
const BOOKS = [
  { id: 'BK-101', title: 'The Left Hand of Darkness', genre: 'fiction', available: true },
  { id: 'BK-102', title: 'SPQR', genre: 'history', available: false },
  { id: 'BK-103', title: 'The Gene', genre: 'science', available: true },
  { id: 'BK-104', title: 'Dune', genre: 'fiction', available: true },
];

function libraryAgent(model = new OfflineLlm()): LlmAgent {
  const searchBooks = new FunctionTool({
    name: 'search_books',
    description: 'Search the library catalogue for books, optionally by genre.',
    parameters: z.object({
      genre: z.enum(['fiction', 'history', 'science', 'poetry']).optional().describe('Genre'),
    }),
    execute: ({ genre }) => ({ books: BOOKS.filter((b) => genre === undefined || b.genre === genre) }),
  });
  const getBook = new FunctionTool({
    name: 'get_book',
    description: 'Get one book by its id.',
    parameters: z.object({ book_id: z.string().describe('Book id such as BK-101') }),
    execute: ({ book_id }) => {
      const book = BOOKS.find((b) => b.id === book_id);
      if (book === undefined) throw new Error(`No book ${book_id}`);
      return book;
    },
  });
  const countLoans = new FunctionTool({
    name: 'count_loans',
    description: 'How many loans I currently have.',
    execute: () => 3,
  });
  const listBranches = new FunctionTool({
    name: 'list_branches',
    description: 'Library branches and opening hours, optionally only the ones open late (evening).',
    parameters: z.object({ late: z.boolean().optional().describe('Only branches open late') }),
    execute: ({ late }) =>
      late
        ? []
        : [
            { name: 'Central', hours: '9-21' },
            { name: 'Riverside', hours: '10-18' },
          ],
  });
  const renewLoan = new FunctionTool({
    name: 'renew_loan',
    description: 'Renew the loan of a book I have borrowed.',
    parameters: z.object({ book_id: z.string().describe('Book id such as BK-101') }),
    execute: ({ book_id }) => ({ renewed: book_id }),
  });
  return new LlmAgent({
    name: 'library_agent',
    description: 'The public library: catalogue, loans and branches.',
    model,
    instruction: 'Help with the library.',
    tools: [searchBooks, getBook, countLoans, listBranches, renewLoan],
  });
}

function request(partial: Partial<LlmRequest>): LlmRequest {
  return { contents: [], toolsDict: {}, liveConnectConfig: {}, ...partial };
}

function textOf(model: OfflineLlm, llmRequest: LlmRequest): string {
  return model.respond(llmRequest).content?.parts?.[0]?.text ?? '';
}

describe('OfflineLlm through the ADK Runner', () => {
  it('calls the best-matching tool with arguments from the query and renders its result', async () => {
    const chat = await startChat(libraryAgent());
    const turn = await chat('any fiction books?');
    expect(turn.calls).toEqual([{ name: 'search_books', args: { genre: 'fiction' } }]);
    expect(turn.responses[0]?.response).toEqual({ books: [BOOKS[0], BOOKS[3]] });
    expect(turn.text).toContain('Result of search_books (genre: fiction):');
    expect(turn.text).toContain('- BK-101: The Left Hand of Darkness (genre: fiction, available: yes)');
    expect(turn.text).toContain('- BK-104: Dune');
    expect(turn.text.endsWith(OFFLINE_MODEL_MARKER)).toBe(true);
  });

  it('resolves follow-ups from earlier turns: ordinals, "the last one", and a single previous item', async () => {
    const chat = await startChat(libraryAgent());
    await chat('search all books');
    const second = await chat('show details of the second one');
    expect(second.calls).toEqual([{ name: 'get_book', args: { book_id: 'BK-102' } }]);
    expect(second.text).toContain('title: SPQR');
    expect(second.text).toContain('available: no');

    // "the last one" points into the last listing, not at the single book just shown.
    const last = await chat('and the last one?');
    expect(last.calls).toEqual([{ name: 'get_book', args: { book_id: 'BK-104' } }]);
    // Without an ordinal, "it" is the one item the previous answer was about.
    const again = await chat('show it in detail again');
    expect(again.calls).toEqual([{ name: 'get_book', args: { book_id: 'BK-104' } }]);
  });

  it('asks which item is meant when a follow-up is ambiguous or out of range', async () => {
    const chat = await startChat(libraryAgent());
    await chat('search all books');
    const vague = await chat('get that book');
    expect(vague.calls).toEqual([]);
    expect(vague.text).toContain('Which one do you mean?');
    expect(vague.text).toContain(OFFLINE_MODEL_MARKER);

    const tooFar = await chat('get the ninth book');
    expect(tooFar.calls).toEqual([]);
    expect(tooFar.text).toContain('BK-101, BK-102, BK-103, BK-104');
  });

  it('asks for a required argument it cannot find instead of calling the tool', async () => {
    const chat = await startChat(libraryAgent());
    const turn = await chat('please renew my loan');
    expect(turn.calls).toEqual([]);
    expect(turn.text).toContain('To use renew_loan I need book_id (Book id such as BK-101)');
  });

  it('renders tool errors, scalar results and empty lists plainly', async () => {
    const chat = await startChat(libraryAgent());
    const missing = await chat('get book BK-999');
    expect(missing.calls).toEqual([{ name: 'get_book', args: { book_id: 'BK-999' } }]);
    expect(missing.text).toContain('get_book (book id: BK-999) failed: No book BK-999');
    expect(missing.text).not.toContain('Error in tool');

    const loans = await chat('how many loans do I have');
    expect(loans.text).toContain('Result of count_loans:\n3');

    const late = await chat('which branches are open late?');
    expect(late.calls).toEqual([{ name: 'list_branches', args: { late: true } }]);
    expect(late.text).toContain('No results found.');

    const branches = await chat('list the library branches');
    expect(branches.text).toContain('- Central (hours: 9-21)');
  });

  it('says what the agent can do when no tool fits', async () => {
    const chat = await startChat(libraryAgent());
    const turn = await chat('what is the weather in Paris');
    expect(turn.calls).toEqual([]);
    expect(turn.text).toContain('I\'m library_agent and I could not match "what is the weather in Paris"');
    expect(turn.text).toContain('The public library: catalogue, loans and branches.');
    expect(turn.text).toContain(
      '- search_books: Search the library catalogue for books, optionally by genre.',
    );
    expect(turn.text).toContain('- count_loans: How many loans I currently have.');
    expect(turn.text.endsWith(OFFLINE_MODEL_MARKER)).toBe(true);
  });

  it('answers an agent without tools with what it is for', async () => {
    const agent = new LlmAgent({
      name: 'faq_agent',
      description: 'Answers questions about the canteen menu.',
      model: new OfflineLlm(),
      instruction: 'Be brief.',
    });
    const turn = await (await startChat(agent))('what is for lunch?');
    expect(turn.text).toContain("I'm faq_agent: Answers questions about the canteen menu.");
    expect(turn.text).toContain('cannot answer free-form questions');
    expect(turn.text).toContain(OFFLINE_MODEL_MARKER);
  });
});

describe('OfflineLlm on requests built by hand', () => {
  const tools = [
    {
      functionDeclarations: [
        {
          name: 'get_spend',
          description: 'Cloud spend for a month.',
          parameters: {
            type: 'OBJECT',
            properties: {
              period: {
                anyOf: [
                  { type: 'STRING', enum: ['this_month', 'last_month'] },
                  { type: 'STRING', pattern: '^\\d{4}-\\d{2}$' },
                ],
              },
            },
          },
        },
        {
          name: 'get_order',
          description: 'One order by id.',
          parameters: {
            type: 'OBJECT',
            properties: { order_id: { type: 'STRING' } },
            required: ['order_id'],
          },
        },
      ],
    },
  ] as never;

  it('reads today from the instruction, falling back to its clock', () => {
    const model = new OfflineLlm({ now: () => new Date('2024-02-10T12:00:00Z') });
    const ask = (systemInstruction: unknown) =>
      model.respond(
        request({
          contents: [{ role: 'user', parts: [{ text: 'spend in March' }] }],
          config: { tools, systemInstruction: systemInstruction as string },
        }),
      ).content?.parts?.[0]?.functionCall;
    expect(ask(undefined)).toEqual({ name: 'get_spend', args: { period: '2023-03' } });
    expect(ask('Today is 2025-06-12 (Thursday).')).toEqual({
      name: 'get_spend',
      args: { period: '2025-03' },
    });
    // systemInstruction may also be a Content.
    expect(ask({ parts: [{ text: 'Today is 2026-04-01.' }, {}] })).toEqual({
      name: 'get_spend',
      args: { period: '2026-03' },
    });
    expect(ask('Today is 2025-13-45.')).toEqual({ name: 'get_spend', args: { period: '2023-03' } });
  });

  it('uses identifiers in replayed text when tool results are not in the history', () => {
    const model = new OfflineLlm();
    const call = model.respond(
      request({
        contents: [
          { role: 'user', parts: [{ text: 'my orders' }] },
          {
            role: 'user',
            parts: [{ text: 'For context:' }, { text: '[orders_agent] said: Orders PO-2001 and PO-2002.' }],
          },
          { role: 'user', parts: [{ text: 'order details of the second one' }] },
        ],
        config: { tools },
      }),
    ).content?.parts?.[0]?.functionCall;
    expect(call).toEqual({ name: 'get_order', args: { order_id: 'PO-2002' } });
  });

  it('renders several answered calls and matches each to its call by id', () => {
    const model = new OfflineLlm();
    const text = textOf(
      model,
      request({
        contents: [
          { role: 'user', parts: [{ text: 'two orders' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { id: 'a', name: 'get_order', args: { order_id: 'PO-1' } } },
              { functionCall: { id: 'b', name: 'get_order', args: { order_id: 'PO-2' } } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { id: 'a', name: 'get_order', response: { total: 12.5 } } },
              { functionResponse: { id: 'b', name: 'get_order', response: { total: 1234.567 } } },
            ],
          },
        ],
      }),
    );
    expect(text).toBe(
      `Result of get_order (order id: PO-1):\ntotal: 12.5\n\nResult of get_order (order id: PO-2):\ntotal: 1,234.57\n\n${OFFLINE_MODEL_MARKER}`,
    );
  });

  it('never throws on odd input', () => {
    const model = new OfflineLlm();
    const odd: unknown[] = [
      request({}),
      request({
        contents: undefined as never,
        config: {
          tools: [{ googleSearch: {} }, { functionDeclarations: [{}, null, { name: 'x' }] }] as never,
        },
      }),
      request({
        contents: [{ role: 'user' }, { role: 'model', parts: [{}] }, { role: 'user', parts: [{ text: '' }] }],
      }),
      request({
        contents: [{ role: 'user', parts: [{ functionResponse: { name: 'x', response: undefined } }] }],
      }),
      request({ contents: [{ role: 'user', parts: [{ functionResponse: {} }] }] }),
      request({
        contents: [{ role: 'user', parts: [{ text: '\u0000 ☃ 12345678901234567890 #99 -- ""' }] }],
        config: { tools },
      }),
    ];
    for (const llmRequest of odd) {
      const text = model.respond(llmRequest as LlmRequest).content?.parts?.[0]?.text;
      expect(text).toContain(OFFLINE_MODEL_MARKER);
    }
    expect(textOf(model, request({}))).toBe(
      "I'm this agent. On the offline model I cannot answer free-form questions, so I can only tell you what " +
        `I am for.\n\n${OFFLINE_MODEL_MARKER}`,
    );

    const broken = {
      get contents(): never {
        throw new Error('boom');
      },
    } as unknown as LlmRequest;
    expect(textOf(model, broken)).toBe(
      `The offline model could not handle this request (boom).\n\n${OFFLINE_MODEL_MARKER}`,
    );
    const thrownString = {
      get contents(): never {
        throw 'bad';
      },
    } as unknown as LlmRequest;
    expect(textOf(model, thrownString)).toContain('(bad)');
  });

  it('yields exactly one response per call and refuses live connections', async () => {
    const model = new OfflineLlm();
    const responses = [];
    for await (const response of model.generateContentAsync(
      request({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    )) {
      responses.push(response);
    }
    expect(responses).toHaveLength(1);
    expect(model.model).toBe(OFFLINE_MODEL_NAME);
    await expect(model.connect(request({}))).rejects.toThrow(/not supported offline.*GOOGLE_API_KEY/s);
  });
});

describe('createDefaultModel', () => {
  it('is the offline model without an API key and Gemini with one', () => {
    expect(createDefaultModel({ googleApiKey: undefined, geminiModel: 'gemini-2.5-flash' })).toBeInstanceOf(
      OfflineLlm,
    );
    expect(createDefaultModel({ googleApiKey: '', geminiModel: 'gemini-2.5-flash' })).toBeInstanceOf(
      OfflineLlm,
    );
    const gemini = createDefaultModel({ googleApiKey: 'test-key-not-used', geminiModel: 'gemini-2.5-pro' });
    expect(gemini).toBeInstanceOf(Gemini);
    expect(gemini.model).toBe('gemini-2.5-pro');
  });
});
