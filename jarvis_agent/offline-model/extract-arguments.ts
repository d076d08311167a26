/**
 * @module jarvis_agent/offline-model/extract-arguments
 * Fills a tool's arguments from the user's words, guided by the parameter schema: enum values named in
 * the query, identifiers for `*_id` parameters (or from earlier turns: "the second one"), numbers and
 * durations, calendar months, booleans, and free text for a required summary such as a ticket title.
 */

import { isStopword, stem, tokenize, words } from '../../src/text/text-analysis.js';
import { type ConversationHistory, findIds, type JsonRecord, looksLikeId } from './conversation-history.js';
import type { ParamSpec, ToolSpec } from './tool-specs.js';

export interface ExtractionContext {
  /** Today's date (its UTC calendar day counts), for "last month" and month names. */
  readonly today: Date;
  readonly history: ConversationHistory;
}

export interface Extraction {
  readonly args: JsonRecord;
  /** Parameters filled from the query itself (not from earlier turns). */
  readonly fromQuery: readonly string[];
  /** Parameters filled from earlier turns (an ordinal or a reference to the previous result). */
  readonly fromHistory: readonly string[];
  /** Required parameters nobody could fill. */
  readonly missing: readonly ParamSpec[];
  /** Set when an identifier is needed and earlier turns offer several without saying which. */
  readonly ambiguous?: { readonly param: ParamSpec; readonly candidates: readonly string[] };
}

/** Words after which a word such as "open" is a verb ("open a ticket"), not an enum value. */
const ARTICLES = new Set(['a', 'an', 'new']);

/** An own-property check guards the lookup: "constructor" must not find Object.prototype's member. */
const ORDINALS: Readonly<Record<string, number>> = {
  first: 0,
  '1st': 0,
  second: 1,
  '2nd': 1,
  third: 2,
  '3rd': 2,
  fourth: 3,
  '4th': 3,
  fifth: 4,
  '5th': 4,
  sixth: 5,
  '6th': 5,
  seventh: 6,
  '7th': 6,
  eighth: 7,
  '8th': 7,
  ninth: 8,
  '9th': 8,
  tenth: 9,
  '10th': 9,
  last: -1,
};

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** Questions ask about something; they do not describe a new thing to record. */
const QUESTION_START =
  /^\s*(what|which|who|whom|whose|when|where|why|how|has|have|had|is|are|was|were|do|does|did)\b/i;

/** Words that refer back to something already shown ("show details", "that one", "it"). */
const REFERENCE_WORDS = new Set([
  'it',
  'its',
  'that',
  'this',
  'one',
  'them',
  'those',
  'details',
  'detail',
  'more',
]);

/**
 * Position of an ordinal ("the second one", "#2", "number 3"), 0-based; -1 means the last item.
 * "last week" and "last month" are periods, not ordinals.
 */
export function findOrdinal(query: string): number | undefined {
  const list = words(query);
  for (let i = 0; i < list.length; i++) {
    const word = list[i] as string;
    const position = Object.hasOwn(ORDINALS, word) ? ORDINALS[word] : undefined;
    if (position === undefined) continue;
    if (word === 'last' && /^(day|week|month|quarter|year|time|night)s?$/.test(list[i + 1] ?? '')) continue;
    return position;
  }
  const numbered = /(?:#|\bnumber\s+|\bno\.\s*)(\d{1,2})\b/i.exec(query);
  return numbered ? Math.max(0, Number(numbered[1]) - 1) : undefined;
}

/** True when the query points back at earlier results ("show details", "that one", "the second"). */
export function refersBack(query: string): boolean {
  return findOrdinal(query) !== undefined || words(query).some((word) => REFERENCE_WORDS.has(word));
}

/** Indexes of words used as verbs before an article ("open a ticket"), which must not count as values. */
export function verbPositions(query: string): Set<number> {
  const list = words(query);
  const positions = new Set<number>();
  list.forEach((word, i) => {
    if (ARTICLES.has(list[i + 1] ?? '') && !isStopword(word)) positions.add(i);
  });
  return positions;
}

/** The enum value the query names first (multi-word values such as `in_progress` match "in progress"). */
export function findEnumValue(query: string, values: readonly string[]): string | undefined {
  const stems = words(query).map(stem);
  const verbs = verbPositions(query);
  let best: { value: string; index: number; length: number } | undefined;
  for (const value of values) {
    const target = words(value).map(stem);
    if (target.length === 0) continue;
    for (let i = 0; i + target.length <= stems.length; i++) {
      if (!target.every((part, k) => stems[i + k] === part)) continue;
      if (target.length === 1 && verbs.has(i)) continue;
      if (best === undefined || i < best.index || (i === best.index && target.length > best.length)) {
        best = { value, index: i, length: target.length };
      }
      break;
    }
  }
  return best?.value;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function monthKey(year: number, monthIndex: number): string {
  const date = new Date(Date.UTC(year, monthIndex, 1));
  return `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}`;
}

function isPeriodParam(param: ParamSpec): boolean {
  return (
    /period|month/i.test(param.name) ||
    param.enumValues.some((value) => /month/.test(value)) ||
    param.patterns.some((pattern) => pattern.includes('\\d{4}'))
  );
}

/**
 * A calendar month named in the query: `this_month`/`last_month` when the schema offers them,
 * otherwise `YYYY-MM` ("March" is the latest March not after today; "May" needs "in May" or a year).
 */
export function findPeriod(query: string, param: ParamSpec, today: Date): string | undefined {
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth();
  const relative = (offset: number, name: string): string =>
    param.enumValues.includes(name) ? name : monthKey(year, month + offset);
  const explicit = /\b((?:19|20)\d{2})-(0[1-9]|1[0-2])\b/.exec(query);
  if (explicit) return `${explicit[1]}-${explicit[2]}`;
  const lower = query.toLowerCase();
  const named = new RegExp(
    `\\b(in|for|of|during|since)?\\s*\\b(${[...MONTHS.map((m) => (m === 'may' ? m : `${m.slice(0, 3)}(?:${m.slice(3)})?`)), 'sept'].join('|')})\\b\\.?(?:\\s+((?:19|20)\\d{2}))?`,
    'g',
  );
  for (const match of lower.matchAll(named)) {
    const [, preposition, name = '', namedYear] = match;
    if (name === 'may' && preposition === undefined && namedYear === undefined) continue;
    const index = MONTHS.findIndex((m) => m.startsWith(name.slice(0, 3)));
    const resolvedYear = namedYear !== undefined ? Number(namedYear) : index <= month ? year : year - 1;
    return monthKey(resolvedYear, index);
  }
  if (/\b(this|current)\s+month\b|\bmonth[\s-]to[\s-]date\b|\bmtd\b/.test(lower))
    return relative(0, 'this_month');
  if (/\b(last|previous|past|prior)\s+month\b/.test(lower)) return relative(-1, 'last_month');
  const ago = /\b(\d{1,2}|two|three|four|five|six)\s+months?\s+ago\b/.exec(lower);
  if (ago) return monthKey(year, month - (NUMBER_WORDS[ago[1] as string] ?? Number(ago[1])));
  return undefined;
}

function clamp(value: number, param: ParamSpec): number {
  const low = param.minimum ?? Number.NEGATIVE_INFINITY;
  const high = param.maximum ?? Number.POSITIVE_INFINITY;
  const bounded = Math.min(high, Math.max(low, value));
  return param.type === 'integer' ? Math.round(bounded) : bounded;
}

/** A duration in days ("this week" = 7, "next 2 weeks" = 14, "tomorrow" = 1) for a `days` parameter. */
export function findDays(query: string): number | undefined {
  const lower = query.toLowerCase();
  const counted =
    /\b(\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(day|week|month)s?\b/.exec(
      lower,
    );
  if (counted) {
    const n = NUMBER_WORDS[counted[1] as string] ?? Number(counted[1]);
    return n * { day: 1, week: 7, month: 30 }[counted[2] as 'day' | 'week' | 'month'];
  }
  if (/\bfortnight\b/.test(lower)) return 14;
  if (/\bnext\s+week\b/.test(lower)) return 14;
  if (/\bweek\b/.test(lower)) return 7;
  if (/\bnext\s+month\b/.test(lower)) return 60;
  if (/\bmonth\b/.test(lower)) return 30;
  if (/\btomorrow\b/.test(lower)) return 1;
  if (/\btoday\b/.test(lower)) return 0;
  return undefined;
}

/** The first plain number of the query that is not part of an identifier, a date, a year or a duration. */
export function findNumber(query: string): number | undefined {
  const cleaned = query
    .replace(/\b[A-Za-z]{2,8}-\d{2,8}\b/g, ' ')
    .replace(/\b\d{4}-\d{2}(-\d{2})?\b/g, ' ')
    .replace(/\b(19|20)\d{2}\b/g, ' ')
    // "two months ago", "next 3 weeks": a duration, not a count.
    .replace(
      new RegExp(`\\b(\\d+|${Object.keys(NUMBER_WORDS).join('|')})\\s+(day|week|month|year)s?\\b`, 'gi'),
      ' ',
    );
  const match = new RegExp(
    `\\b(\\d+(?:\\.\\d+)?)\\b|\\b(${Object.keys(NUMBER_WORDS).join('|')})\\b`,
    'i',
  ).exec(cleaned);
  if (match === null) return undefined;
  return match[1] !== undefined ? Number(match[1]) : NUMBER_WORDS[(match[2] as string).toLowerCase()];
}

/** Parameters that take an identifier: `ticket_id`, `id`, `courseId`, or a pattern such as `^[A-Z]+-\\d+$`. */
export function isIdParam(param: ParamSpec): boolean {
  return /(^|_)id$|Id$/.test(param.name) || param.patterns.some((pattern) => /\[A-Z/.test(pattern));
}

function matchesPatterns(value: string, param: ParamSpec): boolean {
  return param.patterns.every((pattern) => {
    try {
      return new RegExp(pattern, 'i').test(value);
    } catch {
      return true;
    }
  });
}

/** The identifier a record carries for `param`: `ticket_id`, else `id`, else any id-looking value. */
function idOfRecord(record: JsonRecord, param: ParamSpec): string | undefined {
  const exact = record[param.name];
  if (typeof exact === 'string') return exact;
  if (typeof record.id === 'string') return record.id;
  return Object.values(record).find(looksLikeId);
}

type IdResult = { value: string; source: 'query' | 'history' } | { candidates: string[] } | undefined;

/**
 * The identifier for `param`: one named in the query, else, when the query refers back ("the second
 * one", "show details"), one from the previous results.
 */
function resolveId(query: string, param: ParamSpec, history: ConversationHistory): IdResult {
  const inQuery = findIds(query).filter((id) => matchesPatterns(id, param));
  if (inQuery[0] !== undefined) return { value: inQuery[0], source: 'query' };
  if (!refersBack(query)) return undefined;
  const ordinal = findOrdinal(query);
  let candidates = history
    .recentRecords(ordinal !== undefined)
    .map((record) => idOfRecord(record, param))
    .filter((id): id is string => id !== undefined && matchesPatterns(id, param));
  if (candidates.length === 0)
    candidates = history.recentIdsInText().filter((id) => matchesPatterns(id, param));
  if (candidates.length === 0) return undefined;
  if (ordinal !== undefined) {
    const picked = ordinal < 0 ? candidates.at(ordinal) : candidates[ordinal];
    return picked === undefined ? { candidates } : { value: picked, source: 'history' };
  }
  if (candidates.length === 1) return { value: candidates[0] as string, source: 'history' };
  return { candidates };
}

function isFreeTextParam(param: ParamSpec): boolean {
  return (
    param.type === 'string' && param.enumValues.length === 0 && !isIdParam(param) && !isPeriodParam(param)
  );
}

/**
 * The free text a required summary parameter should get: a quoted phrase, the text after a colon or
 * after "about/for/saying...", else the whole request when it says more than the tool's own vocabulary.
 */
export function findFreeText(query: string, tool: ToolSpec): string | undefined {
  const vocabulary = new Set(
    tokenize(
      [
        tool.name,
        tool.description,
        ...tool.params.flatMap((p) => [p.name, p.description, ...p.enumValues]),
      ].join(' '),
    ),
  );
  const novel = (text: string): number => tokenize(text).filter((token) => !vocabulary.has(token)).length;
  const tidy = (text: string): string => {
    const trimmed = text
      .trim()
      .replace(/[\s.!?]+$/, '')
      .slice(0, 200)
      .trim();
    return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  };
  const quoted = /["“]([^"”]{3,})["”]/.exec(query);
  if (quoted) return tidy(quoted[1] as string);
  const explicit =
    /:\s*(\S.{2,})$/.exec(query) ??
    /\b(?:about|regarding|saying|that says|titled|called|because|for)\s+(\S.{2,})$/i.exec(query);
  if (explicit && novel(explicit[1] as string) > 0) return tidy(explicit[1] as string);
  // A statement of a problem can be its own summary; a question ("has anyone looked at...?") is not.
  return novel(query) >= 2 && !QUESTION_START.test(query) ? tidy(query) : undefined;
}

/** Fills `tool`'s arguments from `query` (and, for identifiers, from earlier turns). */
export function extractArguments(query: string, tool: ToolSpec, context: ExtractionContext): Extraction {
  const args: JsonRecord = {};
  const fromQuery: string[] = [];
  const fromHistory: string[] = [];
  const missing: ParamSpec[] = [];
  let ambiguous: Extraction['ambiguous'];
  const set = (param: ParamSpec, value: unknown, source: 'query' | 'history' = 'query'): void => {
    args[param.name] = value;
    (source === 'query' ? fromQuery : fromHistory).push(param.name);
  };

  for (const param of tool.params) {
    if (isPeriodParam(param) && param.type !== 'integer' && param.type !== 'number') {
      const period = findPeriod(query, param, context.today);
      if (period !== undefined) set(param, period);
    } else if (param.enumValues.length > 0) {
      const value = findEnumValue(query, param.enumValues);
      if (value !== undefined) set(param, value);
    } else if (isIdParam(param)) {
      const id = resolveId(query, param, context.history);
      if (id !== undefined && 'value' in id) set(param, id.value, id.source);
      else if (id !== undefined && param.required) ambiguous ??= { param, candidates: id.candidates };
    } else if (param.type === 'integer' || param.type === 'number') {
      const n = /day/i.test(`${param.name} ${param.description}`)
        ? (findDays(query) ?? findNumber(query))
        : findNumber(query);
      if (n !== undefined) set(param, clamp(n, param));
    } else if (param.type === 'boolean') {
      const name = words(param.name).map(stem).join(' ');
      const stems = ` ${words(query).map(stem).join(' ')} `;
      if (new RegExp(` (not|non) ${name} `).test(stems)) set(param, false);
      else if (stems.includes(` ${name} `)) set(param, true);
    } else if (param.required && isFreeTextParam(param)) {
      const text = findFreeText(query, tool);
      if (text !== undefined) set(param, text);
    }
    if (param.required && !(param.name in args) && ambiguous?.param !== param) missing.push(param);
  }
  return ambiguous === undefined
    ? { args, fromQuery, fromHistory, missing }
    : { args, fromQuery, fromHistory, missing, ambiguous };
}
