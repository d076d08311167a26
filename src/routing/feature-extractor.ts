/**
 * @module routing/feature-extractor
 * Maps text to the features stage 1 learns from, in three views: stemmed words (what is said), pairs of
 * adjacent stems (how it is said: "card arrive" vs "arrive card"), and character n-grams of the surface words
 * (robust to typos, inflections and compounds). A feature's id is a hash of its text, with the view in its two
 * low bits: the same text always gets the same id, whatever else was seen before or in which order, which is
 * what makes a model a function of the registry's content alone.
 */
import { isStopword, stem, surfaceWords } from '../text/text-analysis.js';
import type { SparseVector } from './sparse-vector.js';

/** A text's features and how often each occurs. */
export interface TermCounts {
  /** Feature ids, strictly increasing; `id & 3` is the view. */
  readonly ids: Int32Array;
  readonly counts: Float32Array;
  /** Word-feature ids of the text's content words (stopwords aside, unless it has no other), in order. */
  readonly contentWords: Int32Array;
}

export interface FeatureSettings {
  /** Lengths of the character n-grams taken from each surface word padded with a space each side. */
  readonly charGrams: readonly number[];
  /** Weight of each view relative to the word view (every view is unit-normalised first). */
  readonly bigramWeight: number;
  readonly charWeight: number;
}

export const DEFAULT_FEATURES: FeatureSettings = { charGrams: [4], bigramWeight: 0.6, charWeight: 1 };

export const WORD_VIEW = 0;
export const BIGRAM_VIEW = 1;
export const CHAR_VIEW = 2;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashString(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** Final avalanche, so the low bits (replaced by the view) carry no structure of their own. */
function finish(h: number, view: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return (x & ~3) | view;
}

/** The id of a word feature (a stem). */
export function wordFeature(stemmed: string): number {
  return finish(hashString(stemmed, FNV_OFFSET), WORD_VIEW);
}

/** Scratch shared by every call: a text's ids before counting. */
let scratch = new Int32Array(512);

/** The features of `text` and their counts. */
export function textFeatures(text: string, settings: FeatureSettings = DEFAULT_FEATURES): TermCounts {
  const surface = surfaceWords(text);
  const stems = surface.map(stem);
  let n = 0;
  const push = (id: number) => {
    if (n === scratch.length) {
      const grown = new Int32Array(scratch.length * 2);
      grown.set(scratch);
      scratch = grown;
    }
    scratch[n++] = id;
  };
  const wordHashes = stems.map((s) => hashString(s, FNV_OFFSET));
  for (const h of wordHashes) push(finish(h, WORD_VIEW));
  if (settings.bigramWeight > 0) {
    for (let i = 0; i + 1 < wordHashes.length; i++) {
      push(finish(Math.imul(wordHashes[i]! ^ 0x9e3779b9, FNV_PRIME) ^ wordHashes[i + 1]!, BIGRAM_VIEW));
    }
  }
  if (settings.charWeight > 0) {
    for (const word of surface) {
      const length = word.length + 2;
      for (const size of settings.charGrams) {
        for (let start = 0; start + size <= length; start++) {
          let h = Math.imul(FNV_OFFSET ^ size, FNV_PRIME);
          for (let k = start; k < start + size; k++) {
            const c = k === 0 || k === length - 1 ? 32 : word.charCodeAt(k - 1);
            h = Math.imul(h ^ c, FNV_PRIME);
          }
          push(finish(h, CHAR_VIEW));
        }
      }
    }
  }
  const sorted = scratch.slice(0, n).sort();
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const ids = new Int32Array(distinct);
  const counts = new Float32Array(distinct);
  let k = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) ids[++k] = sorted[i]!;
    counts[k]! += 1;
  }
  let content = 0;
  for (const word of surface) if (!isStopword(word)) content++;
  const contentWords = new Int32Array(content > 0 ? content : surface.length);
  let c = 0;
  for (let i = 0; i < surface.length; i++) {
    if (content === 0 || !isStopword(surface[i]!)) contentWords[c++] = finish(wordHashes[i]!, WORD_VIEW);
  }
  return { ids, counts, contentWords };
}

/**
 * The unit TF-IDF vector of counted terms over a model's rows: sublinear term frequency times the feature's
 * IDF, each view scaled to its weight, then the whole to unit length. Features the model does not know
 * (`rowOf` gives -1) count in the norm with `unknownIdf` but are left out of the vector: a query made mostly
 * of words no agent uses scores low against every agent.
 */
/** Scratch of `weighTerms`, reused by every call. */
let rowScratch = new Int32Array(256);
let rawScratch = new Float32Array(256);

export function weighTerms(
  terms: TermCounts,
  rowOf: { get(id: number): number | undefined } | null,
  idf: Float32Array,
  unknownIdf: number,
  settings: FeatureSettings = DEFAULT_FEATURES,
): SparseVector {
  const ids = new Int32Array(terms.ids.length);
  const values = new Float32Array(terms.ids.length);
  const known = weighTermsInto(terms, rowOf, idf, unknownIdf, settings, ids, values, 0);
  return known === ids.length
    ? { ids, values }
    : { ids: ids.slice(0, known), values: values.slice(0, known) };
}

/** `weighTerms` writing into `outIds` / `values` from `offset`; returns how many features it wrote. */
export function weighTermsInto(
  terms: TermCounts,
  rowOf: { get(id: number): number | undefined } | null,
  idf: Float32Array,
  unknownIdf: number,
  settings: FeatureSettings,
  outIds: Int32Array,
  values: Float32Array,
  offset: number,
): number {
  const { ids, counts } = terms;
  const n = ids.length;
  if (rowScratch.length < n) {
    rowScratch = new Int32Array(n * 2);
    rawScratch = new Float32Array(n * 2);
  }
  const rows = rowScratch;
  const raw = rawScratch;
  let word = 0;
  let bigram = 0;
  let char = 0;
  let known = 0;
  for (let i = 0; i < n; i++) {
    // Without a model's rows, the vector stays over feature ids, unweighted by rarity.
    const row = rowOf === null ? ids[i]! : (rowOf.get(ids[i]!) ?? -1);
    rows[i] = row;
    const weight = (1 + Math.log(counts[i]!)) * (rowOf === null ? 1 : row < 0 ? unknownIdf : idf[row]!);
    raw[i] = weight;
    if (row >= 0 || rowOf === null) known++;
    const view = ids[i]! & 3;
    if (view === WORD_VIEW) word += weight * weight;
    else if (view === BIGRAM_VIEW) bigram += weight * weight;
    else char += weight * weight;
  }
  const wordScale = word > 0 ? 1 / Math.sqrt(word) : 0;
  const bigramScale = bigram > 0 ? settings.bigramWeight / Math.sqrt(bigram) : 0;
  const charScale = char > 0 ? settings.charWeight / Math.sqrt(char) : 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const view = ids[i]! & 3;
    raw[i]! *= view === WORD_VIEW ? wordScale : view === BIGRAM_VIEW ? bigramScale : charScale;
    total += raw[i]! * raw[i]!;
  }
  const unit = total > 0 ? 1 / Math.sqrt(total) : 0;
  // The known features by row, ascending (insertion sort: a text has tens of features).
  let k = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    if (row < 0 && rowOf !== null) continue;
    const value = raw[i]! * unit;
    let at = offset + k++;
    while (rowOf !== null && at > offset && outIds[at - 1]! > row) {
      outIds[at] = outIds[at - 1]!;
      values[at] = values[at - 1]!;
      at--;
    }
    outIds[at] = row;
    values[at] = value;
  }
  return known;
}
