/**
 * @module routing/agent-index
 * Stage 1 of routing: learns every registered agent from its documents and scores a query against all of
 * them with one model (see `ModelTrainer`). A change is visible at once: an agent added or changed since the
 * last build competes with an untrained scorer (the cosine to its documents' centroid) until the next build,
 * which always covers the whole registry and is swapped in whole with its calibration: searching never
 * trains, and the trained answers depend only on the registry's content. Builds run in a worker thread
 * (`WorkerTrainer`, the default), or on the event loop in short slices (`BackgroundTrainer`, `trainer:
 * 'inline'`); `trainNow()` builds on the calling thread either way.
 */
import { lowerBound } from '../sorted.js';
import { BackgroundTrainer, type TrainingJob } from './background-trainer.js';
import { type Calibration, type Evidence, UNFITTED } from './calibration.js';
import { type TermCounts, textFeatures, weighTerms } from './feature-extractor.js';
import { DEFAULT_SETTINGS, type IndexSettings } from './index-settings.js';
import { type BuildItem, type BuiltModel, ModelBuild } from './model-build.js';
import { PendingIndex } from './pending-index.js';
import { agentDocuments, agentExamples, type RoutableAgent } from './routable-agent.js';
import type { SparseVector } from './sparse-vector.js';
import { type SpawnWorker, WorkerTrainer } from './training-worker-client.js';

/** One agent of the pool a query is scored against. */
export interface IndexHit {
  readonly name: string;
  /** Enabled and available: only these may be returned to callers as candidates. */
  readonly routable: boolean;
  /** Score on the log-odds scale, comparable within one query. */
  readonly logit: number;
}

export interface IndexSearch {
  /** The best agents, best logit first. Empty when the query shares no feature with any agent. */
  readonly hits: readonly IndexHit[];
  /** Logarithm of the softmax normaliser over every agent. */
  readonly logNormaliser: number;
  /** What stage 1 says about the best hit, for calibration. */
  readonly evidence: Evidence;
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
  /** Agents changed since the last build. */
  readonly pendingAgents: number;
  /** Full builds completed so far. */
  readonly builds: number;
  /** Wall time of the last full build, from its start to its adoption (slices and pauses included). */
  readonly lastBuildMs: number | null;
  /**
   * The longest the event loop spent on training in one go so far (a training slice, or with the worker,
   * packing one batch of documents or adopting a model): the most a request waited behind training.
   */
  readonly longestSliceMs: number;
}

export interface AgentIndexOptions {
  settings?: Partial<IndexSettings>;
  onError?: (error: unknown) => void;
  /** Where background builds run: a worker thread (default) or the event loop, in slices. */
  trainer?: 'worker' | 'inline';
  /** How the worker is started (tests substitute an in-thread one). */
  spawn?: SpawnWorker;
}

interface Entry extends IndexedAgent {
  readonly documents: readonly string[];
  readonly terms: readonly TermCounts[];
  /** Increases with every change of any agent: tells a build whether its copy is stale. */
  readonly version: number;
  /** The untrained scorer: unit centroid of the documents over feature ids. */
  readonly centroid: SparseVector;
}

/** Re-exported for callers that size their pools like the index does. */
export const POOL_SIZE = DEFAULT_SETTINGS.poolSize;

export class AgentIndex {
  private readonly settings: IndexSettings;
  private built: BuiltModel | undefined;
  private readonly trainer: BackgroundTrainer | WorkerTrainer;
  private readonly entries = new Map<string, Entry>();
  /** The agents' names, sorted: the order every build takes them in. */
  private readonly sortedNames: string[] = [];
  /** Entries not in the built model as they are now (added or changed since, or none built yet). */
  private pending = new PendingIndex();
  /** Increases with every change of the registry. */
  private version = 0;
  /** The registry version the model in use covers. */
  private builtVersion = 0;
  /** The registry changed since the running or last build started. */
  private stale = false;
  private builds = 0;
  private lastBuildMs: number | null = null;

  constructor(options: AgentIndexOptions = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    const onError = options.onError ?? (() => {});
    this.trainer =
      options.trainer === 'inline'
        ? new BackgroundTrainer(
            { nextJob: () => (this.stale ? this.build() : undefined) },
            { sliceMs: this.settings.sliceMs, busyPauseMs: this.settings.busyPauseMs, onError },
          )
        : new WorkerTrainer(
            {
              item: (name) => this.item(name),
              names: () => this.sortedNames,
              due: () => this.stale,
              startBuild: () => {
                if (!this.stale) return undefined;
                this.stale = false;
                return this.version;
              },
              adopt: (built, version, startedAt) => this.adopt(built, version, startedAt),
            },
            {
              settings: this.settings,
              onError,
              restRatio: this.settings.restRatio,
              maxRestMs: this.settings.maxRestMs,
              ...(options.spawn !== undefined && { spawn: options.spawn }),
            },
          );
  }

  get size(): number {
    return this.entries.size;
  }

  get(name: string): IndexedAgent | undefined {
    return this.entries.get(name);
  }

  /** The calibration of the model in use (unfitted before the first build). */
  get calibration(): Calibration {
    return this.built?.calibration ?? UNFITTED;
  }

  stats(): TrainingStats {
    return {
      trained: this.builtVersion === this.version,
      pendingAgents: this.pending.size,
      builds: this.builds,
      lastBuildMs: this.lastBuildMs,
      longestSliceMs: this.trainer.longestSliceMs,
    };
  }

  /** Resolves when every change so far is trained (or at once when nothing is pending). */
  whenTrained(): Promise<void> {
    if (this.builtVersion === this.version) return Promise.resolve();
    return this.trainer.whenIdle();
  }

  /**
   * Trains every pending change now on this thread, blocking the caller: for scripts and tools, never the
   * request path. A build still running in the worker is then stale and is not adopted.
   */
  trainNow(): void {
    if (this.trainer instanceof BackgroundTrainer) {
      this.trainer.drain();
      return;
    }
    if (this.builtVersion === this.version) return;
    this.stale = false;
    const build = this.build();
    while (!build.advance(Number.POSITIVE_INFINITY));
    build.commit();
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
    if (previous === undefined) this.sortedNames.splice(this.rankOf(agent.name), 0, agent.name);
    const terms = documents.map((text) => textFeatures(text, this.settings.training.features));
    this.entries.set(agent.name, {
      agent,
      examples: agentExamples(agent),
      routable,
      documents,
      terms,
      version: ++this.version,
      centroid: untrainedCentroid(terms, this.settings),
    });
    this.pending.set(agent.name, this.entries.get(agent.name)!.centroid);
    this.changed(agent.name);
  }

  remove(name: string): boolean {
    if (!this.entries.delete(name)) return false;
    this.sortedNames.splice(this.rankOf(name), 1);
    this.pending.delete(name);
    this.version++;
    this.changed(name);
    return true;
  }

  /**
   * How much two agents are about the same thing: the cosine of their centroids, and the same with features
   * weighed by rarity among agents. Zeros for an unknown or not yet trained agent.
   */
  affinity(a: string, b: string): Affinity {
    const model = this.built?.model;
    const x = model?.indexOf(a);
    const y = model?.indexOf(b);
    if (
      model === undefined ||
      x === undefined ||
      y === undefined ||
      this.pending.has(a) ||
      this.pending.has(b)
    ) {
      return { cosine: 0, distinctive: 0 };
    }
    return model.affinity(x, y);
  }

  /** Scores `text` against every agent, with the model trained so far; the best `limit` hits. */
  search(text: string, limit = this.settings.poolSize): IndexSearch {
    const terms = textFeatures(text, this.settings.training.features);
    const built = this.built;
    const hits: (IndexHit & { nearest: number; similarity: number })[] = [];
    let logNormaliser = 0;
    let knownWordRatio = 0;
    let max = Number.NEGATIVE_INFINITY;
    let total = 0;
    if (built !== undefined) {
      const { model, versions } = built;
      const search = model.search(terms, limit + Math.min(this.pending.size, limit));
      knownWordRatio = search.knownWordRatio;
      max = Math.max(0, search.hits[0]?.logit ?? 0);
      total = Math.exp(search.logNormaliser - max);
      for (const hit of search.hits) {
        const name = model.classes[hit.cls]!;
        const entry = this.entries.get(name);
        if (entry === undefined || entry.version !== versions[hit.cls]) {
          // Removed or changed since the build: its trained score no longer stands.
          total -= Math.exp(hit.logit - max);
          continue;
        }
        hits.push({
          name,
          routable: entry.routable,
          logit: hit.logit,
          nearest: hit.nearest,
          similarity: model.similarity(hit.cls, search.vector),
        });
      }
    }
    if (this.pending.size > 0) {
      const vector = weighTerms(terms, null, EMPTY, 1, this.settings.training.features);
      const scale = this.settings.training.initialScale;
      for (const { name, similarity } of this.pending.search(vector)) {
        const entry = this.entries.get(name)!;
        const logit = scale * similarity;
        if (logit > max) {
          total *= Math.exp(max - logit);
          max = logit;
        }
        total += Math.exp(logit - max);
        hits.push({ name, routable: entry.routable, logit, nearest: similarity, similarity });
      }
      if (built === undefined) {
        // Before any build, every agent that shares nothing with the query scores 0.
        total += (this.entries.size - hits.length) * Math.exp(-Math.max(max, 0));
        max = Math.max(max, 0);
        knownWordRatio = hits.length > 0 ? 1 : 0;
      }
    }
    hits.sort((a, b) => b.logit - a.logit || (a.name < b.name ? -1 : 1));
    if (hits.length > limit) hits.length = limit;
    logNormaliser = max + Math.log(Math.max(total, Number.MIN_VALUE));
    const top = hits[0];
    const evidence: Evidence =
      top === undefined
        ? {
            probability: 0,
            logit: 0,
            gap: 0,
            nearest: 0,
            similarity: 0,
            knownWordRatio,
            energy: logNormaliser,
            words: terms.contentWords.length,
          }
        : {
            probability: Math.min(1, Math.exp(top.logit - logNormaliser)),
            logit: top.logit,
            gap: top.logit - (hits[1]?.logit ?? 0),
            nearest: top.nearest,
            similarity: top.similarity,
            knownWordRatio,
            energy: logNormaliser,
            words: terms.contentWords.length,
          };
    return {
      hits: hits.map(({ name, routable, logit }) => ({ name, routable, logit })),
      logNormaliser,
      evidence,
    };
  }

  /** Where `name` is, or would go, in `sortedNames`. */
  private rankOf(name: string): number {
    return lowerBound(this.sortedNames, name);
  }

  private changed(name: string): void {
    this.stale = true;
    this.trainer.wake(name);
  }

  private item(name: string): BuildItem | undefined {
    const entry = this.entries.get(name);
    return entry === undefined ? undefined : { name, version: entry.version, terms: entry.terms };
  }

  /** A build of the whole registry as it is now, in name order. */
  private build(): TrainingJob {
    this.stale = false;
    const version = this.version;
    const items = this.sortedNames.map((name) => this.item(name)!);
    return new ModelBuild(items, this.settings, (built, startedAt) => this.adopt(built, version, startedAt));
  }

  /**
   * Swaps in a finished build of registry version `version`, unless a newer one is in use (a `trainNow`
   * while the worker built); agents changed while it ran stay pending (the next build covers them).
   */
  private adopt(built: BuiltModel, version: number, startedAt: number): void {
    if (version <= this.builtVersion) return;
    this.built = built;
    this.builtVersion = version;
    this.builds++;
    this.lastBuildMs = performance.now() - startedAt;
    // A new index rather than clearing the old one: its postings are freed by the collector, not here.
    this.pending = new PendingIndex();
    // A build of version `version` covers every agent as it was then (a worker build starts only once the
    // worker has every change), so the agents it does not cover are those changed since: no lookup of each
    // name in the model, which cost about 10 ms of event loop at 10,000 agents.
    for (const [name, entry] of this.entries) {
      if (entry.version > version) this.pending.set(name, entry.centroid);
    }
  }
}

const EMPTY = new Float32Array(0);

function untrainedCentroid(terms: readonly TermCounts[], settings: IndexSettings): SparseVector {
  const sums = new Map<number, number>();
  for (const t of terms) {
    const v = weighTerms(t, null, EMPTY, 1, settings.training.features);
    for (let i = 0; i < v.ids.length; i++) sums.set(v.ids[i]!, (sums.get(v.ids[i]!) ?? 0) + v.values[i]!);
  }
  const ids = Int32Array.from(sums.keys()).sort();
  const values = new Float32Array(ids.length);
  let norm = 0;
  for (let i = 0; i < ids.length; i++) {
    values[i] = sums.get(ids[i]!)!;
    norm += values[i]! * values[i]!;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < values.length; i++) values[i]! *= scale;
  return { ids, values };
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}
