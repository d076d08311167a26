import { describe, expect, it } from 'vitest';
import { splitClauses } from '../../src/routing/clause-splitter.js';
import { textFeatures, WORD_VIEW, weighTerms, wordFeature } from '../../src/routing/feature-extractor.js';
import { dependsOnContextOnly, looksLikeFollowUp } from '../../src/routing/follow-up-detector.js';
import { agentDocuments, agentProfile, humanise } from '../../src/routing/routable-agent.js';
import { stem, surfaceWords, tokenize, words } from '../../src/text/text-analysis.js';
import { demoAgent } from './demo-agents.js';

describe('text analysis', () => {
  it('normalises case, accents, contractions and numbers', () => {
    expect(surfaceWords("I can't see my Café receipt #42, won't it show?")).toEqual([
      'i',
      'can',
      'not',
      'see',
      'my',
      'cafe',
      'receipt',
      '#',
      'will',
      'not',
      'it',
      'show',
    ]);
    expect(surfaceWords("it's $5 or 10%")).toEqual(['it', '$', '#', 'or', '#', '%']);
  });

  it('gives inflections one stem', () => {
    expect(new Set(['charge', 'charged', 'charges', 'charging'].map(stem))).toEqual(new Set(['charg']));
    expect(new Set(['policy', 'policies'].map(stem)).size).toBe(1);
    expect(new Set(['stop', 'stopped', 'stopping'].map(stem)).size).toBe(1);
    expect(stem('status')).toBe('status');
    expect(stem('payments')).toBe(stem('payment'));
    expect(tokenize('Classes')).toEqual(tokenize('class'));
    // The offline model reads words as written (ids matter there); routing folds numbers.
    expect(words('Close INC-1004 now')).toEqual(['close', 'inc', '1004', 'now']);
  });
});

describe('clause splitter', () => {
  it('splits requests on conjunctions and punctuation, keeping clauses of two words or more', () => {
    expect(splitClauses("show my tickets and last month's cloud spend")).toEqual([
      'show my tickets',
      "last month's cloud spend",
    ]);
    expect(splitClauses('list courses; then enroll me in python')).toEqual([
      'list courses',
      'enroll me in python',
    ]);
    expect(splitClauses('tickets and')).toEqual(['tickets and']);
    // A comma attaches context to one request; sentences and conjunctions separate requests.
    expect(splitClauses('I am abroad, can I use my card?')).toEqual(['I am abroad, can I use my card']);
    expect(splitClauses('Show my tickets. What is our cloud spend?')).toEqual([
      'Show my tickets',
      'What is our cloud spend',
    ]);
  });
});

describe('follow-up detector', () => {
  it.each(['show details', 'and the second one?', 'what about last month?', 'why?', 'more', 'ok, close it'])(
    'recognises %j',
    (query) => expect(looksLikeFollowUp(query)).toBe(true),
  );
  it.each(['how much did we spend on AWS last month', 'list my tickets', 'enroll me in the python course'])(
    'does not flag %j',
    (query) => expect(looksLikeFollowUp(query)).toBe(false),
  );
  it.each([
    'show details',
    'and the second one?',
    'What about last month?',
    'tell me more about it',
    'the 3rd one',
    'why?',
  ])('knows %j names no topic of its own', (query) => expect(dependsOnContextOnly(query)).toBe(true));
  it.each([
    'show details of the invoice',
    'and my courses?',
    'what about AWS?',
    'list my tickets',
    'ok, close it',
  ])('knows %j names a topic (or is no follow-up)', (query) =>
    expect(dependsOnContextOnly(query)).toBe(false),
  );
});

describe('agent documents', () => {
  it('builds a profile from name, description, tags and capabilities, then one document per example', () => {
    const agent = demoAgent({
      name: 'cloudCosts_agent',
      description: 'Cloud spend',
      tags: ['fin-ops'],
      capabilities: {
        operations: ['get_costs', { nested: ['budget_alerts'] }],
        limits: { maxRows: 10 },
        examples: ['  show costs  ', '', 42, 'top services'],
      },
    });
    expect(humanise('listTickets_now')).toBe('list Tickets now');
    expect(agentProfile(agent)).toBe(
      'cloud Costs agent. Cloud spend. fin ops. operations. get costs. nested. budget alerts. limits. max Rows',
    );
    expect(agentDocuments(agent).slice(1)).toEqual(['show costs', 'top services']);
    expect(agentDocuments(demoAgent({ name: 'x', capabilities: { examples: 'not a list' } }))).toHaveLength(
      1,
    );
  });
});

describe('feature extractor', () => {
  it('gives the same text the same feature ids, whatever was seen before', () => {
    const first = textFeatures('top up £20 or €5 with 10% fee');
    textFeatures('exchange rate for ¥ and $');
    const again = textFeatures('top up £20 or €5 with 10% fee');
    expect(again.ids).toEqual(first.ids);
    expect([...first.ids]).toEqual([...first.ids].sort((a, b) => a - b));
    expect(first.ids).toContain(wordFeature('top'));
    expect(wordFeature('top') & 3).toBe(WORD_VIEW);
    // Each view is there: words, word pairs and character n-grams.
    expect(new Set([...first.ids].map((id) => id & 3))).toEqual(new Set([0, 1, 2]));
    expect(first.contentWords).toContain(wordFeature('fee'));
    expect(first.contentWords).not.toContain(wordFeature('with'));
    expect(textFeatures('').ids).toHaveLength(0);
  });

  it('weighs terms over known rows to a unit vector; unknown terms only lengthen the norm', () => {
    const terms = textFeatures('open a ticket');
    const rows = new Map([...terms.ids].map((id, i) => [id, i]));
    const idf = new Float32Array(terms.ids.length).fill(2);
    const vector = weighTerms(terms, rows, idf, 3);
    expect(vector.ids).toEqual(Int32Array.from(terms.ids, (_, i) => i));
    expect(Math.hypot(...vector.values)).toBeCloseTo(1, 5);
    const longer = weighTerms(textFeatures('open a ticket zzzz'), rows, idf, 3);
    expect(longer.ids.length).toBe(vector.ids.length);
    expect(Math.hypot(...longer.values)).toBeLessThan(0.95);
    // Without rows the vector stays over feature ids, unweighted by rarity.
    expect(weighTerms(terms, null, new Float32Array(0), 1).ids).toEqual(terms.ids);
  });
});

describe('words that name object internals', () => {
  it('are plain words to the stemmer and the tokenizer (once a crash at start-up)', async () => {
    const { stem, tokenize } = await import('../../src/text/text-analysis.js');
    for (const word of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'prototype']) {
      expect(typeof stem(word)).toBe('string');
    }
    expect(tokenize('the constructor toString of valueOf').every((token) => typeof token === 'string')).toBe(
      true,
    );
  });
});
