/**
 * @module routing/routing-model
 * One consistent state of stage 1: every agent's document vectors, its centroid in the retrieval index and
 * its reranker weights. The router answers from one model while a background build prepares the next, then
 * swaps it in whole, so a query never sees half a build.
 */
import { CentroidIndex, type ScoredSlot } from './centroid-index.js';
import { type AgentWeights, LinearReranker, scoreWith, weightsFrom } from './linear-reranker.js';
import { centroidOf, dot, type SparseVector } from './sparse-vector.js';

export class RoutingModel {
  readonly retrieval: CentroidIndex;
  readonly reranker = new LinearReranker();
  private readonly vectors: (readonly SparseVector[] | undefined)[] = [];

  /**
   * @param scale the untrained scorer's weight on the centroid: what an agent scores before training, on the
   *   scale of trained logits, so a just-added agent competes fairly with trained ones.
   */
  constructor(
    private readonly scale: number,
    postedTerms: number,
  ) {
    this.retrieval = new CentroidIndex(postedTerms);
  }

  /**
   * Puts an agent's document vectors in `slot`, untrained. Its scorer is the scaled centroid cosine; a table of
   * weights is only made when training needs one (`withWeights`), which keeps upserts cheap and small.
   */
  place(slot: number, vectors: readonly SparseVector[], withWeights = false): void {
    const centroid = centroidOf(vectors);
    this.vectors[slot] = vectors;
    this.retrieval.set(slot, centroid);
    if (withWeights) this.reranker.set(slot, weightsFrom(centroid, this.scale));
    else this.reranker.delete(slot);
  }

  /** The untrained weights of `slot` (its scaled centroid), for training to start from. */
  untrainedWeights(slot: number): AgentWeights | undefined {
    const centroid = this.retrieval.centroid(slot);
    return centroid === undefined ? undefined : weightsFrom(centroid, this.scale);
  }

  /** The reranker's score of `slot` for a query: trained weights, or the scaled centroid cosine. */
  score(slot: number, vector: SparseVector): number {
    const weights = this.reranker.read(slot);
    return weights === undefined
      ? this.scale * this.centroidSimilarity(slot, vector)
      : scoreWith(weights, vector);
  }

  clear(slot: number): void {
    this.vectors[slot] = undefined;
    this.retrieval.delete(slot);
    this.reranker.delete(slot);
  }

  has(slot: number): boolean {
    return this.vectors[slot] !== undefined;
  }

  documents(slot: number): readonly SparseVector[] {
    return this.vectors[slot] ?? [];
  }

  /** The agents closest to `vector` by centroid cosine, best first. */
  nearestAgents(vector: SparseVector, limit: number, terms: number): ScoredSlot[] {
    return this.retrieval.search(vector, limit, terms);
  }

  /** Cosine between `vector` and the agent's centroid. */
  centroidSimilarity(slot: number, vector: SparseVector): number {
    const centroid = this.retrieval.centroid(slot);
    return centroid === undefined ? 0 : dot(centroid, vector);
  }

  /** Cosine between `vector` and the closest of the agent's documents. */
  nearestDocument(slot: number, vector: SparseVector): number {
    let best = 0;
    for (const document of this.documents(slot)) best = Math.max(best, dot(document, vector));
    return best;
  }
}
