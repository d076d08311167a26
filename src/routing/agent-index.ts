/**
 * @module routing/agent-index
 * Stage 1 of routing: learns every registered agent from its documents and scores a query against all of
 * them. Retrieval (centroid cosine) proposes a pool of agents; a discriminative linear reranker orders the
 * pool. A change is visible at once (the agent gets an untrained scorer); training runs in the background, in
 * short slices, and its result is swapped in whole: searching never trains.
 */
import { BackgroundTrainer, type TrainingJob } from './background-trainer.js';
import { FeatureExtractor, type TermCounts } from './feature-extractor.js';
import { DEFAULT_SETTINGS, type IndexSettings } from './index-settings.js';
import { LocalTraining } from './local-training.js';
import { type BuildItem, ModelBuild } from './model-build.js';
import { agentDocuments, agentExamples, type RoutableAgent } from './routable-agent.js';
import { RoutingModel } from './routing-model.js';
import { dot } from './sparse-vector.js';

/** One agent of the pool a query is scored against. */
export interface IndexHit {
  readonly name: string;
  /** Enabled and available: only these may be returned to callers as candidates. */
  readonly routable: boolean;
  /** Reranker score (log-odds scale, comparable within one query). */
  readonly logit: number;
  /** Softmax of the logits over the pool: the share of belief this agent gets among its rivals. */
  readonly probability: number;
  /** Cosine between the query and the agent's centroid: absolute lexical evidence, comparable across queries. */
  readonly similarity: number;
  /** Cosine between the query and the agent's closest document: near-duplicates of an example are safe bets. */
  readonly nearest: number;
  /** Logit lead over the best other agent of the pool (negative for all but the top hit). */
  readonly gap: number;
}

export interface IndexSearch {
  /** The pool, best logit first. Empty when the query shares no feature with any agent. */
  readonly hits: readonly IndexHit[];
  readonly knownWordRatio: number;
  readonly wordCount: number;
}

export interface IndexedAgent {
  readonly agent: RoutableAgent;
  readonly examples: readonly string[];
  readonly routable: boolean;
}

export interface Affinity {
  /** Cosine of the two centroids. */
  readonly cosine: number;
  /** Cosine with features weighed by their rarity among agents. */
  readonly distinctive: number;
}

/** Where training stands, for health reports and benchmarks. */
export interface TrainingStats {
  /** No change is waiting to be trained. */
  readonly trained: boolean;
  /** Agents changed since their last training. */
  readonly pendingAgents: number;
  /** Full builds completed so far. */
  readonly builds: number;
  /** Wall time of the last full build, from its start to its adoption (slices and pauses included). */
  readonly lastBuildMs: number | null;
  /** The longest training slice so far: the most a request waited behind training. */
  readonly longestSliceMs: number;
}

interface Entry extends IndexedAgent {
  readonly slot: number;
  readonly documents: readonly string[];
  readonly terms: readonly TermCounts[];
  /** Increases with every change of any agent: tells a background job whether its copy is stale. */
  readonly version: number;
}

/** Re-exported for callers that size their pools like the index does. */
export const POOL_SIZE = DEFAULT_SETTINGS.poolSize;

export class AgentIndex {
  private readonly settings: IndexSettings;
  private readonly extractor: FeatureExtractor;
  private model: RoutingModel;
  private readonly trainer: BackgroundTrainer;
  private readonly entries = new Map<string, Entry>();
  private readonly slotNames: (string | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Agents changed since they were last trained. */
  private readonly dirty = new Set<string>();
  private version = 0;
  private documentsAtBuild = 0;
  private changesSinceBuild = 0;
  private builds = 0;
  private lastBuildMs: number | null = null;

  constructor(options: { settings?: Partial<IndexSettings>; onError?: (error: unknown) => void } = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.extractor = new FeatureExtractor(this.settings.features);
    this.model = new RoutingModel(this.settings.untrainedScale, this.settings.postedTerms);
    this.trainer = new BackgroundTrainer(
      { nextJob: () => this.nextJob() },
      { sliceMs: this.settings.sliceMs, onError: options.onError ?? (() => {}) },
    );
  }

  get size(): number {
    return this.entries.size;
  }

  get(name: string): IndexedAgent | undefined {
    return this.entries.get(name);
  }

  names(): IterableIterator<string> {
    return this.entries.keys();
  }

  stats(): TrainingStats {
    return {
      trained: !this.trainer.running && !this.hasWork(),
      pendingAgents: this.dirty.size,
      builds: this.builds,
      lastBuildMs: this.lastBuildMs,
      longestSliceMs: this.trainer.longestSliceMs,
    };
  }

  /** Resolves when every change so far is trained (or at once when nothing is pending). */
  whenTrained(): Promise<void> {
    return this.trainer.whenIdle();
  }

  /** Trains every pending change now, blocking the caller: for scripts and tools, never the request path. */
  trainNow(): void {
    this.trainer.drain();
  }

  /** Stops background training (routing keeps working with the model as it is). */
  close(): void {
    this.trainer.stop();
  }

  /** Adds or replaces an agent. Cheap: it is scored untrained at once, and trained in the background. */
  upsert(agent: RoutableAgent): void {
    const documents = agentDocuments(agent);
    const routable = agent.enabled && agent.available;
    const previous = this.entries.get(agent.name);
    if (previous !== undefined && sameTexts(previous.documents, documents)) {
      // Enabling, disabling or a factory failure changes who may be selected, not what the agent is about.
      this.entries.set(agent.name, { ...previous, agent, routable });
      return;
    }
    const slot = previous?.slot ?? this.freeSlots.pop() ?? this.slotNames.length;
    if (previous !== undefined) this.withdraw(previous);
    const terms = documents.map((text) => this.extractor.addDocument(text));
    const entry: Entry = {
      agent,
      examples: agentExamples(agent),
      routable,
      slot,
      documents,
      terms,
      version: ++this.version,
    };
    this.entries.set(agent.name, entry);
    this.slotNames[slot] = agent.name;
    this.model.place(
      slot,
      terms.map((t) => this.extractor.weigh(t)),
    );
    this.changesSinceBuild += documents.length;
    this.dirty.add(agent.name);
    this.trainer.wake();
  }

  remove(name: string): boolean {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    this.withdraw(entry);
    this.entries.delete(name);
    this.slotNames[entry.slot] = undefined;
    this.freeSlots.push(entry.slot);
    this.model.clear(entry.slot);
    this.dirty.delete(name);
    this.version++;
    this.trainer.wake();
    return true;
  }

  /**
   * How much two agents are about the same thing: the cosine of their centroids, and the same with features
   * weighed by rarity among agents (see `CentroidIndex.distinctiveCosine`). Zeros for an unknown name.
   */
  affinity(a: string, b: string): Affinity {
    const x = this.entries.get(a);
    const y = this.entries.get(b);
    if (x === undefined || y === undefined) return { cosine: 0, distinctive: 0 };
    const { retrieval } = this.model;
    return {
      cosine: dot(retrieval.centroid(x.slot)!, retrieval.centroid(y.slot)!),
      distinctive: retrieval.distinctiveCosine(x.slot, y.slot),
    };
  }

  /** Scores `text` against the agents most likely to own it, with the model trained so far. */
  search(text: string, poolSize = this.settings.poolSize): IndexSearch {
    const { model, settings } = this;
    const query = this.extractor.query(text);
    const pool = model.nearestAgents(query.vector, poolSize, settings.retrievalTerms);
    if (pool.length === 0)
      return { hits: [], knownWordRatio: query.knownWordRatio, wordCount: query.wordCount };
    const hits = pool.map(({ slot }) => {
      const entry = this.entries.get(this.nameAt(slot))!;
      const logit = model.score(slot, query.vector);
      return {
        name: entry.agent.name,
        routable: entry.routable,
        slot,
        logit,
        probability: 0,
        similarity: 0,
        nearest: 0,
        gap: 0,
      };
    });
    hits.sort((a, b) => b.logit - a.logit || a.slot - b.slot);
    // The best few hits also get the cosine to their closest example (a nearest-neighbour vote, which the
    // linear scorer misses when a query paraphrases one example closely); the rest their centroid cosine.
    let max = Number.NEGATIVE_INFINITY;
    for (let rank = 0; rank < hits.length; rank++) {
      const hit = hits[rank]!;
      hit.similarity = model.centroidSimilarity(hit.slot, query.vector);
      hit.nearest =
        rank < settings.nearestHits ? model.nearestDocument(hit.slot, query.vector) : hit.similarity;
      hit.logit += settings.nearestWeight * hit.nearest;
      max = Math.max(max, hit.logit);
    }
    let total = 0;
    for (const hit of hits) total += Math.exp(hit.logit - max);
    hits.sort((a, b) => b.logit - a.logit || (a.name < b.name ? -1 : 1));
    const first = hits[0]!.logit;
    // A lone hit is compared with an agent sharing nothing with the query, whose score is about zero.
    const second = hits[1]?.logit ?? 0;
    for (let rank = 0; rank < hits.length; rank++) {
      const hit = hits[rank]!;
      hit.probability = Math.exp(hit.logit - max) / total;
      hit.gap = hit.logit - (rank === 0 ? second : first);
    }
    return { hits, knownWordRatio: query.knownWordRatio, wordCount: query.wordCount };
  }

  /** Whether a change is waiting for training: a drift that calls for a full build, or changed agents. */
  private hasWork(): boolean {
    return this.entries.size > 0 && (this.drifted() || this.dirty.size > 0);
  }

  private drifted(): boolean {
    return this.changesSinceBuild > this.settings.rebuildFraction * this.documentsAtBuild;
  }

  /** The trainer's next job: a full build after large changes (or none yet), else local retraining. */
  private nextJob(): TrainingJob | undefined {
    if (this.entries.size === 0) {
      this.dirty.clear();
      return undefined;
    }
    if (this.drifted()) {
      this.dirty.clear();
      const items: BuildItem[] = [];
      for (const entry of this.entries.values()) {
        items.push({ slot: entry.slot, version: entry.version, terms: entry.terms });
      }
      this.documentsAtBuild = this.extractor.documents;
      this.changesSinceBuild = 0;
      const weighting = this.extractor.snapshot();
      return new ModelBuild(
        items,
        (terms) => this.extractor.weigh(terms, weighting),
        this.settings,
        (build) => this.adopt(build),
      );
    }
    if (this.dirty.size === 0) return undefined;
    const changed = [...this.dirty].map((name) => this.entries.get(name)!.slot);
    this.dirty.clear();
    return new LocalTraining(
      this.model,
      changed,
      (slot) => this.versionAt(slot),
      this.entries.size,
      this.settings,
    );
  }

  /** Swaps in a finished build, then re-applies the changes it did not see (they stay pending). */
  private adopt(build: ModelBuild): void {
    const seen = new Map<number, number>();
    for (const item of build.items) seen.set(item.slot, item.version);
    for (const [slot, version] of seen) {
      if (this.versionAt(slot) !== version) build.model.clear(slot);
    }
    for (const entry of this.entries.values()) {
      if (seen.get(entry.slot) === entry.version) continue;
      build.model.place(
        entry.slot,
        entry.terms.map((t) => this.extractor.weigh(t)),
      );
      this.dirty.add(entry.agent.name);
    }
    this.model = build.model;
    this.builds++;
    this.lastBuildMs = performance.now() - build.startedAt;
  }

  private versionAt(slot: number): number {
    const name = this.slotNames[slot];
    return name === undefined ? -1 : this.entries.get(name)!.version;
  }

  private nameAt(slot: number): string {
    return this.slotNames[slot]!;
  }

  private withdraw(entry: Entry): void {
    for (const terms of entry.terms) this.extractor.removeDocument(terms);
    this.changesSinceBuild += entry.documents.length;
  }
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}
