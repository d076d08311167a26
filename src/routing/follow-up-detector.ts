/**
 * @module routing/follow-up-detector
 * Recognises messages that lean on the conversation so far ("show details", "and the second one?",
 * "what about last month?"): short, anaphoric, ordinal, or opening with a continuation. A follow-up made only
 * of such words names no topic at all, so only the conversation can say which agent it is for.
 */
import { NUMBER_TOKEN, surfaceWords } from '../text/text-analysis.js';

const CONTINUATION_START = /^(?:and|also|but|or|so|then|ok(?:ay)?|what about|how about|same|now)\b/i;
const REFERENCE =
  /\b(?:it|its|that|this|those|these|them|they|one|ones|same|above|previous|former|latter|first|second|third|fourth|fifth|last|next|other|another|more|details?|detailed|elaborate|expand|why|again)\b/i;
/** Longer messages are self-contained requests even when they contain "it" or "that". */
const MAX_FOLLOW_UP_WORDS = 6;

/**
 * Words that carry no topic: function words, generic requests, references, ordinals and time expressions.
 * ("what about last month?" asks the same thing of another period; the period says nothing of the domain.)
 */
const TOPICLESS = new Set(
  [
    'a an the of for to in on at by from with about as into',
    'i me my mine we us our you your he she his her',
    'please can could would will shall should may might must do does did done is are was were be been am',
    'what which who whom how when where why whats',
    'and also but or so then ok okay now just only too',
    'show list give get tell see display view open find fetch bring pull read check look',
    'more most less details detail detailed info information elaborate expand explain summary summarize',
    'it its that this those these them they one ones same above previous former latter other another again',
    'there here any some all each every both either',
    'first second third fourth fifth sixth seventh eighth ninth tenth last next final',
    'today yesterday tomorrow tonight day days week weeks weekly month months monthly quarter quarters year years',
    'recent recently earlier later ago since before after until current past prior',
  ]
    .join(' ')
    .split(' '),
);

export function looksLikeFollowUp(query: string): boolean {
  const trimmed = query.trim();
  const words = surfaceWords(trimmed).length;
  if (CONTINUATION_START.test(trimmed) && words <= MAX_FOLLOW_UP_WORDS + 2) return true;
  return words <= MAX_FOLLOW_UP_WORDS && REFERENCE.test(trimmed);
}

/** A follow-up naming no topic: nothing but topicless words (and numbers). Only the conversation can place it. */
export function dependsOnContextOnly(query: string): boolean {
  if (!looksLikeFollowUp(query)) return false;
  return surfaceWords(query).every((word) => TOPICLESS.has(word) || word === NUMBER_TOKEN);
}
