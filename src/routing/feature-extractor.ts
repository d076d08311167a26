/**
 * @module routing/feature-extractor
 * Maps text to TF-IDF vectors over two views: stemmed words (what is said) and character n-grams of the
 * surface words (robust to typos, inflections and compounds). Keeps the vocabulary and document frequencies,
 * updated incrementally as documents come and go. The query path allocates only its result vector.
 */
import { normalizeInPlace, type SparseVector } from './sparse-vector.js';
import { stem, surfaceWords } from './tokenizer.js';

/** A document's interned term counts, kept so it can be re-weighed or withdrawn later. */
export interface TermCounts {
  /** Feature ids, strictly increasing. */
  readonly ids: Int32Array;
  readonly counts: Float32Array;
}

export interface QueryFeatures {
  readonly vector: SparseVector;
  /** Share of the query's words that occur anywhere in the indexed documents (0 when it has none). */
  readonly knownWordRatio: number;
  readonly wordCount: number;
}

/** Inverse document frequencies frozen at one moment, so a background build weighs every document alike. */
export interface Weighting {
  idf(id: number): number;
}

export interface FeatureSettings {
  /** Lengths of the character n-grams taken from each padded surface word. */
  readonly charGrams: readonly number[];
  /** Weight of the character view relative to the word view (both are unit-normalised first). */
  readonly charWeight: number;
}

export const DEFAULT_FEATURES: FeatureSettings = { charGrams: [4], charWeight: 1 };

const WORD_VIEW = 0;
const CHAR_VIEW = 1;

export class FeatureExtractor {
  private readonly settings: FeatureSettings;
  /** Words and word pairs by text; character n-grams by a numeric code (no string built per n-gram). */
  private readonly words = new Map<string, number>();
  private readonly grams = new Map<number, number>();
  private views = new Uint8Array(1024);
  private documentFrequency = new Float64Array(1024);
  private documentCount = 0;
  private nextId = 0;
  /** Scratch for counting one text's terms: a dense counter and the ids it touched. */
  private scratch = new Float32Array(1024);
  private touched = new Int32Array(256);
  private touchedCount = 0;

  constructor(settings: Partial<FeatureSettings> = {}) {
    this.settings = { ...DEFAULT_FEATURES, ...settings };
  }

  /** Number of documents currently counted in the document frequencies. */
  get documents(): number {
    return this.documentCount;
  }

  /** Interns the terms of `text` and counts it as one more document. */
  addDocument(text: string): TermCounts {
    const terms = this.count(surfaceWords(text), true);
    for (const id of terms.ids) this.documentFrequency[id]! += 1;
    this.documentCount += 1;
    return terms;
  }

  /** Withdraws a document counted by `addDocument`. Its terms stay interned (ids are never reused). */
  removeDocument(terms: TermCounts): void {
    for (const id of terms.ids) this.documentFrequency[id]! -= 1;
    this.documentCount -= 1;
  }

  /** The current document frequencies, frozen (a copy): what a background build weighs with. */
  snapshot(): Weighting {
    const n = this.documentCount;
    const df = this.documentFrequency.slice(0, this.nextId);
    return {
      idf: (id) => (id < df.length ? idfOf(n, df[id]!) : this.idf(id)),
    };
  }

  /** The unit TF-IDF vector of counted terms, under the current or a frozen weighting. */
  weigh(terms: TermCounts, weighting: Weighting = this): SparseVector {
    const { ids, counts } = terms;
    const values = new Float32Array(ids.length);
    let wordNorm = 0;
    let charNorm = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const weight = (1 + Math.log(counts[i]!)) * weighting.idf(id);
      values[i] = weight;
      if (this.views[id] === WORD_VIEW) wordNorm += weight * weight;
      else charNorm += weight * weight;
    }
    const wordScale = wordNorm > 0 ? 1 / Math.sqrt(wordNorm) : 0;
    const charScale = charNorm > 0 ? this.settings.charWeight / Math.sqrt(charNorm) : 0;
    for (let i = 0; i < ids.length; i++) {
      values[i]! *= this.views[ids[i]!] === WORD_VIEW ? wordScale : charScale;
    }
    return { ids, values: normalizeInPlace(values) };
  }

  /** Vectorises a query against the current vocabulary; unseen terms carry no weight. */
  query(text: string): QueryFeatures {
    const words = surfaceWords(text);
    let known = 0;
    for (const word of words) {
      const id = this.words.get(stem(word));
      if (id !== undefined && this.documentFrequency[id]! > 0) known++;
    }
    return {
      vector: this.weigh(this.count(words, false)),
      knownWordRatio: words.length === 0 ? 0 : known / words.length,
      wordCount: words.length,
    };
  }

  /** Whether `id` is a word feature (not a character n-gram). */
  isWord(id: number): boolean {
    return this.views[id] === WORD_VIEW;
  }

  idf(id: number): number {
    return idfOf(this.documentCount, this.documentFrequency[id] ?? 0);
  }

  private count(words: readonly string[], intern: boolean): TermCounts {
    for (const word of words) {
      this.add(this.wordId(stem(word), intern));
      for (const n of this.settings.charGrams) {
        // The word padded with a space each side, as character codes folded to 6 bits.
        const length = word.length + 2;
        for (let start = 0; start + n <= length; start++) {
          let code = n;
          for (let k = start; k < start + n; k++) {
            code = code * 64 + (k === 0 || k === length - 1 ? 0 : charCode(word.charCodeAt(k - 1)));
          }
          this.add(this.gramId(code, intern));
        }
      }
    }
    const ids = this.touched.slice(0, this.touchedCount).sort();
    const counts = new Float32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      counts[i] = this.scratch[id]!;
      this.scratch[id] = 0;
    }
    this.touchedCount = 0;
    return { ids, counts };
  }

  private add(id: number | undefined): void {
    if (id === undefined) return;
    if (this.scratch[id] === 0) {
      if (this.touchedCount === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.touchedCount++] = id;
    }
    this.scratch[id]! += 1;
  }

  private wordId(key: string, intern: boolean): number | undefined {
    const id = this.words.get(key);
    if (id !== undefined || !intern) return id;
    const created = this.newId(WORD_VIEW);
    this.words.set(key, created);
    return created;
  }

  private gramId(code: number, intern: boolean): number | undefined {
    const id = this.grams.get(code);
    if (id !== undefined || !intern) return id;
    const created = this.newId(CHAR_VIEW);
    this.grams.set(code, created);
    return created;
  }

  private newId(view: number): number {
    const id = this.nextId++;
    if (id >= this.documentFrequency.length) {
      const size = this.documentFrequency.length * 2;
      this.documentFrequency = grow(this.documentFrequency, new Float64Array(size));
      this.views = grow(this.views, new Uint8Array(size));
      this.scratch = grow(this.scratch, new Float32Array(size));
    }
    this.views[id] = view;
    return id;
  }
}

function idfOf(documents: number, frequency: number): number {
  return Math.log((1 + documents) / (1 + Math.max(0, frequency))) + 1;
}

/** a-z -> 1..26; anything else (a symbol token is one character, too short for an n-gram) shares 27. */
function charCode(c: number): number {
  return c >= 97 && c <= 122 ? c - 96 : 27;
}

function grow<T extends Float64Array | Float32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
