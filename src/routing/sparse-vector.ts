/**
 * @module routing/sparse-vector
 * The sparse vector every routing component exchanges: parallel typed arrays sorted by feature id, so two
 * vectors meet in one merge pass and a few thousand agents fit in a few megabytes.
 */

export interface SparseVector {
  /** Feature ids, strictly increasing. */
  readonly ids: Int32Array;
  readonly values: Float32Array;
}

/** The dot product of two sparse vectors (one merge pass). */
export function dot(a: SparseVector, b: SparseVector): number {
  let sum = 0;
  let i = 0;
  let j = 0;
  while (i < a.ids.length && j < b.ids.length) {
    const x = a.ids[i]!;
    const y = b.ids[j]!;
    if (x === y) sum += a.values[i++]! * b.values[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return sum;
}

/** A dense accumulator reused by `centroidOf`, so summing thousands of vectors allocates no map. */
let accumulator = new Float64Array(1024);

/** The unit-length mean direction of several vectors (a class centroid). */
export function centroidOf(vectors: readonly SparseVector[]): SparseVector {
  const touched: number[] = [];
  for (const vector of vectors) {
    const { ids, values } = vector;
    const last = ids[ids.length - 1];
    if (last !== undefined && last >= accumulator.length) {
      const grown = new Float64Array(Math.max(last + 1, accumulator.length * 2));
      grown.set(accumulator);
      accumulator = grown;
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (accumulator[id] === 0) touched.push(id);
      accumulator[id]! += values[i]!;
    }
  }
  const ids = Int32Array.from(touched).sort();
  const values = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    values[i] = accumulator[ids[i]!]!;
    accumulator[ids[i]!] = 0;
  }
  return { ids, values: normalizeInPlace(values) };
}

/** Scales `values` to unit length (a zero vector stays zero) and returns it. */
export function normalizeInPlace(values: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < values.length; i++) norm += values[i]! * values[i]!;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < values.length; i++) values[i]! *= scale;
  }
  return values;
}

/**
 * Many sparse vectors packed in three arrays (vector i is `start[i]` to `start[i + 1]`): a model keeps tens of
 * thousands of document vectors, and as separate objects they would make every garbage collection slow.
 */
export class PackedVectors {
  constructor(
    readonly start: Int32Array,
    readonly ids: Int32Array,
    readonly values: Float32Array,
  ) {}

  get count(): number {
    return this.start.length - 1;
  }

  /** The dot product of vector `i` with `vector` (one merge pass). */
  dot(i: number, vector: SparseVector): number {
    const { ids, values } = this;
    const b = vector.ids;
    let sum = 0;
    let p = this.start[i]!;
    const end = this.start[i + 1]!;
    let j = 0;
    while (p < end && j < b.length) {
      const x = ids[p]!;
      const y = b[j]!;
      if (x === y) sum += values[p++]! * vector.values[j++]!;
      else if (x < y) p++;
      else j++;
    }
    return sum;
  }

  /** Vector `i` as views of the packed arrays. */
  vector(i: number): SparseVector {
    const from = this.start[i]!;
    const to = this.start[i + 1]!;
    return { ids: this.ids.subarray(from, to), values: this.values.subarray(from, to) };
  }
}
