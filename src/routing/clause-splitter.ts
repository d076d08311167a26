/**
 * @module routing/clause-splitter
 * Splits a request that may span domains ("show my tickets and last month's cloud spend") into clauses that
 * can be routed on their own, at conjunctions, semicolons and sentence ends. Not at commas: a comma mostly
 * attaches context to one request ("I am abroad, can I use my card?"), and splitting there made a second agent
 * of a single request (measured on the training splits). A clause that routes weakly is ignored.
 */
import { surfaceWords } from '../text/text-analysis.js';

const SEPARATORS = /\s*(?:[;!?]|\.(?:\s|$)|\b(?:and(?: also)?|also|plus|as well as|then|and then)\b)\s*/i;
const MIN_CLAUSE_WORDS = 2;

/** The clauses of `query` with at least two words; a single clause when there is nothing to split. */
export function splitClauses(query: string): string[] {
  const parts = query
    .split(SEPARATORS)
    .map((part) => part.trim())
    .filter((part) => surfaceWords(part).length >= MIN_CLAUSE_WORDS);
  return parts.length === 0 ? [query] : parts;
}
