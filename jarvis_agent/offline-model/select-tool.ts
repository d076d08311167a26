/**
 * @module jarvis_agent/offline-model/select-tool
 * Chooses the tool that best fits the user's words: token overlap with each tool's name, description,
 * parameter descriptions and enum values (weighted by how rare a word is among the offered tools), plus
 * credit for arguments the query fills. Deterministic: ties go to the tool declared first.
 */

import { isStopword, stem, tokenize, words } from '../../src/text/text-analysis.js';
import { findIds } from './conversation-history.js';
import {
  type Extraction,
  type ExtractionContext,
  extractArguments,
  isIdParam,
  verbPositions,
} from './extract-arguments.js';
import type { ToolSpec } from './tool-specs.js';

export interface ToolChoice {
  readonly tool: ToolSpec;
  readonly score: number;
  readonly extraction: Extraction;
}

/** A choice needs at least this much evidence; below it the model says what the agent can do. */
export const MIN_TOOL_SCORE = 0.5;

const NAME_WEIGHT = 3;
const DESCRIPTION_WEIGHT = 1;
const PARAM_NAME_WEIGHT = 1;
const PARAM_DESCRIPTION_WEIGHT = 0.5;
const ENUM_WEIGHT = 1;
/** An identifier in the query ("INC-1002") is strong evidence for a tool that takes one. */
const ID_FROM_QUERY_BONUS = 2;
const ARG_FROM_QUERY_BONUS = 0.75;
/** A follow-up ("the second one") that earlier results answer, or that needs the user to pick one. */
const ARG_FROM_HISTORY_BONUS = 1;
/** An identifier in the query that a tool cannot take suggests the user wants a single-item tool. */
const IGNORED_ID_PENALTY = 1.5;
/** A tool that could only ask for its arguments fits worse than one that can run. */
const MISSING_ARG_PENALTY = 2;
/** Follow-ups that fit several tools stay with the tool the conversation is about. */
const CONTINUITY_BONUS = 0.25;
/** A request that starts with a tool's verb ("raise a ticket", "enrol me") is about that tool. */
const LEADING_VERB_BONUS = 1;
/** Politeness before the verb of a request. */
const LEAD_IN =
  /^\s*(please|pls|kindly|can you|could you|would you|will you|i want to|i'd like to|i would like to|i need to|let's|lets)\b[\s,]*/i;
/** Between tools that fit a bare follow-up equally, prefer reading over acting. */
const READ_VERB_BONUS = 0.1;
const READ_VERBS = new Set(['get', 'show', 'describe', 'detail', 'view', 'lookup', 'read', 'fetch', 'list']);

interface Vocabulary {
  /** Highest weight of each stem in the tool's texts. */
  readonly weights: Map<string, number>;
  /** Stems that only occur as enum values (they do not count when the query uses them as verbs). */
  readonly enumOnly: Set<string>;
}

function vocabularyOf(tool: ToolSpec): Vocabulary {
  const weights = new Map<string, number>();
  const add = (text: string, weight: number): void => {
    for (const token of tokenize(text)) weights.set(token, Math.max(weights.get(token) ?? 0, weight));
  };
  add(tool.name, NAME_WEIGHT);
  add(tool.description, DESCRIPTION_WEIGHT);
  for (const param of tool.params) {
    add(param.name, PARAM_NAME_WEIGHT);
    add(param.description, PARAM_DESCRIPTION_WEIGHT);
  }
  const enumOnly = new Set<string>();
  for (const value of tool.params.flatMap((param) => param.enumValues)) {
    for (const token of tokenize(value)) {
      if (!weights.has(token)) enumOnly.add(token);
      weights.set(token, Math.max(weights.get(token) ?? 0, ENUM_WEIGHT));
    }
  }
  return { weights, enumOnly };
}

/** The stem of the verb a request starts with, unless it is a stopword ("show", "what"). */
function leadingVerb(query: string): string | undefined {
  let rest = query;
  for (let stripped = rest.replace(LEAD_IN, ''); stripped !== rest; stripped = rest.replace(LEAD_IN, '')) {
    rest = stripped;
  }
  const first = words(rest)[0];
  return first === undefined || isStopword(first) ? undefined : stem(first);
}

/** Stems of a tool's name and the first sentence of its description: the verbs it answers to. */
function verbsOf(tool: ToolSpec): Set<string> {
  const firstSentence = tool.description.split(/[.:;]\s/)[0] ?? '';
  return new Set(tokenize(`${tool.name} ${firstSentence}`));
}

/** Query stems with the positions where they are used as verbs ("open a ticket") flagged. */
function queryStems(query: string): { stem: string; verb: boolean }[] {
  const verbs = verbPositions(query);
  const seen = new Set<string>();
  const result: { stem: string; verb: boolean }[] = [];
  words(query).forEach((word, i) => {
    if (isStopword(word)) return;
    const s = stem(word);
    if (seen.has(s)) return;
    seen.add(s);
    result.push({ stem: s, verb: verbs.has(i) });
  });
  return result;
}

/** All tools scored against `query`, best first. */
export function rankTools(
  query: string,
  tools: readonly ToolSpec[],
  context: ExtractionContext,
): ToolChoice[] {
  const vocabularies = tools.map(vocabularyOf);
  const documentFrequency = new Map<string, number>();
  for (const vocabulary of vocabularies) {
    for (const token of vocabulary.weights.keys())
      documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
  }
  const idf = (token: string): number => Math.log(1 + tools.length / (documentFrequency.get(token) ?? 1));
  const stems = queryStems(query);
  const previous = context.history.previousToolName();
  const queryHasId = findIds(query).length > 0;
  const verb = leadingVerb(query);

  const choices = tools.map((tool, index) => {
    const vocabulary = vocabularies[index] as Vocabulary;
    let score = 0;
    for (const { stem: token, verb } of stems) {
      const weight = vocabulary.weights.get(token);
      if (weight === undefined || (verb && vocabulary.enumOnly.has(token))) continue;
      score += weight * idf(token);
    }
    const extraction = extractArguments(query, tool, context);
    for (const name of extraction.fromQuery) {
      const param = tool.params.find((p) => p.name === name);
      score += param !== undefined && isIdParam(param) ? ID_FROM_QUERY_BONUS : ARG_FROM_QUERY_BONUS;
    }
    if (extraction.fromHistory.length > 0 || extraction.ambiguous !== undefined)
      score += ARG_FROM_HISTORY_BONUS;
    score -= MISSING_ARG_PENALTY * extraction.missing.length;
    if (verb !== undefined && verbsOf(tool).has(verb)) score += LEADING_VERB_BONUS;
    if (queryHasId && !tool.params.some(isIdParam)) score -= IGNORED_ID_PENALTY;
    if (score > 0 && tool.name === previous) score += CONTINUITY_BONUS;
    if (score > 0 && READ_VERBS.has(words(tool.name)[0] ?? '')) score += READ_VERB_BONUS;
    return { tool, score, extraction, index };
  });
  return choices
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map(({ tool, score, extraction }) => ({ tool, score, extraction }));
}

/** The best tool for `query`, or `undefined` when none fits well enough. */
export function selectTool(
  query: string,
  tools: readonly ToolSpec[],
  context: ExtractionContext,
): ToolChoice | undefined {
  const best = rankTools(query, tools, context)[0];
  return best !== undefined && best.score >= MIN_TOOL_SCORE ? best : undefined;
}
