import { describe, expect, it } from 'vitest';
import { splitClauses } from '../../src/routing/clause-splitter.js';
import { FeatureExtractor } from '../../src/routing/feature-extractor.js';
import { dependsOnContextOnly, looksLikeFollowUp } from '../../src/routing/follow-up-detector.js';
import { agentDocuments, agentProfile, humanise } from '../../src/routing/routable-agent.js';
import { stem, surfaceWords, tokenize } from '../../src/routing/tokenizer.js';
import { demoAgent } from './demo-agents.js';

describe('tokenizer', () => {
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
    expect(tokenize('Classes')).toEqual(['class']);
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
  it('weighs words and character n-grams (symbols included), unseen terms carry nothing', () => {
    const extractor = new FeatureExtractor();
    extractor.addDocument('top up £20 or €5 with 10% fee');
    extractor.addDocument('exchange rate for ¥ and $');
    const known = extractor.query('top up £20');
    expect(known.knownWordRatio).toBe(1);
    expect(known.wordCount).toBe(4);
    const norm = Math.hypot(...known.vector.values);
    expect(norm).toBeCloseTo(1, 5);
    const unknown = extractor.query('zzzz');
    expect(unknown).toMatchObject({ knownWordRatio: 0, wordCount: 1 });
    expect(unknown.vector.ids).toHaveLength(0);
    expect(extractor.query('').knownWordRatio).toBe(0);
  });

  it('freezes document frequencies in a snapshot; terms interned later fall back to the live ones', () => {
    const extractor = new FeatureExtractor();
    const first = extractor.addDocument('open a ticket');
    const frozen = extractor.snapshot();
    const later = extractor.addDocument('open a ticket about payroll');
    extractor.addDocument('payroll question');
    expect(extractor.documents).toBe(3);
    // Under the snapshot "open" is in every document; live, in two of three.
    const id = first.ids[0]!;
    expect(frozen.idf(id)).toBeLessThan(extractor.idf(id));
    const newest = later.ids[later.ids.length - 1]!;
    expect(frozen.idf(newest)).toBe(extractor.idf(newest));
    expect(extractor.weigh(later, frozen).ids).toEqual(later.ids);
    extractor.removeDocument(later);
    expect(extractor.documents).toBe(2);
  });
});
