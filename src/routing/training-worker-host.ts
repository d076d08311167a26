/**
 * @module routing/training-worker-host
 * What a training worker thread does, as plain code that tests run in-thread (v8 coverage does not see code
 * run inside worker threads; the entry file `training-worker.ts` only wires this to the thread's port).
 *
 * The worker keeps a mirror of the registry's documents (`changes` messages, sent as agents change), and on
 * `build` builds the whole model from that mirror, in name order, with `buildModel`: the same function the
 * in-thread path runs, so a build here equals a build there. Messages arrive in the order they were posted,
 * so a build covers exactly the changes posted before it. The result goes back as transferred typed arrays.
 */
import type { TermCounts } from './feature-extractor.js';
import {
  type BuildItem,
  type BuildSettings,
  type BuiltTransfer,
  buildModel,
  builtToTransfer,
} from './model-build.js';
import { buffersOf } from './routing-model.js';

/** Many agents' documents packed in a few typed arrays: one message moves thousands of them. */
export interface PackedAgents {
  readonly names: readonly string[];
  readonly versions: Float64Array;
  /** Agent a's documents are `agentStart[a]` to `agentStart[a + 1]`. */
  readonly agentStart: Int32Array;
  /** Document d's features are `idStart[d]` to `idStart[d + 1]` in `ids` / `counts`. */
  readonly idStart: Int32Array;
  readonly ids: Int32Array;
  readonly counts: Float32Array;
  /** Document d's content words are `wordStart[d]` to `wordStart[d + 1]` in `words`. */
  readonly wordStart: Int32Array;
  readonly words: Int32Array;
}

export type ToTrainingWorker =
  | { readonly type: 'changes'; readonly agents: PackedAgents; readonly removed: readonly string[] }
  | { readonly type: 'build'; readonly version: number };

export type FromTrainingWorker =
  | { readonly type: 'built'; readonly version: number; readonly built: BuiltTransfer; readonly ms: number }
  | { readonly type: 'failed'; readonly version: number; readonly message: string };

export type Post<T> = (message: T, transfer: ArrayBuffer[]) => void;

/** Packs agents' documents into fresh arrays (safe to transfer: nothing else holds them). */
export function packAgents(items: readonly BuildItem[]): { agents: PackedAgents; transfer: ArrayBuffer[] } {
  let documents = 0;
  let features = 0;
  let words = 0;
  for (const item of items) {
    documents += item.terms.length;
    for (const terms of item.terms) {
      features += terms.ids.length;
      words += terms.contentWords.length;
    }
  }
  const agents: PackedAgents = {
    names: items.map((item) => item.name),
    versions: Float64Array.from(items, (item) => item.version),
    agentStart: new Int32Array(items.length + 1),
    idStart: new Int32Array(documents + 1),
    ids: new Int32Array(features),
    counts: new Float32Array(features),
    wordStart: new Int32Array(documents + 1),
    words: new Int32Array(words),
  };
  const { agentStart, idStart, ids, counts, wordStart } = agents;
  const packedWords = agents.words;
  let d = 0;
  for (let a = 0; a < items.length; a++) {
    for (const terms of items[a]!.terms) {
      const at = idStart[d]!;
      ids.set(terms.ids, at);
      counts.set(terms.counts, at);
      idStart[d + 1] = at + terms.ids.length;
      packedWords.set(terms.contentWords, wordStart[d]!);
      wordStart[d + 1] = wordStart[d]! + terms.contentWords.length;
      d++;
    }
    agentStart[a + 1] = d;
  }
  return {
    agents,
    transfer: buffersOf([agents.versions, agentStart, idStart, ids, counts, wordStart, packedWords]),
  };
}

/** The agents of a packed batch (their terms are views of the batch's arrays). */
export function unpackAgents(agents: PackedAgents): BuildItem[] {
  return agents.names.map((name, a) => {
    const terms: TermCounts[] = [];
    for (let d = agents.agentStart[a]!; d < agents.agentStart[a + 1]!; d++) {
      const from = agents.idStart[d]!;
      const to = agents.idStart[d + 1]!;
      terms.push({
        ids: agents.ids.subarray(from, to),
        counts: agents.counts.subarray(from, to),
        contentWords: agents.words.subarray(agents.wordStart[d]!, agents.wordStart[d + 1]!),
      });
    }
    return { name, version: agents.versions[a]!, terms };
  });
}

export class TrainingHost {
  private readonly agents = new Map<string, BuildItem>();

  constructor(
    private readonly settings: BuildSettings,
    private readonly post: Post<FromTrainingWorker>,
  ) {}

  handle(message: ToTrainingWorker): void {
    if (message.type === 'changes') {
      for (const name of message.removed) this.agents.delete(name);
      for (const item of unpackAgents(message.agents)) this.agents.set(item.name, item);
      return;
    }
    const started = performance.now();
    try {
      const names = [...this.agents.keys()].sort();
      const built = buildModel(
        names.map((name) => this.agents.get(name)!),
        this.settings,
      );
      const { data, transfer } = builtToTransfer(built);
      this.post(
        { type: 'built', version: message.version, built: data, ms: performance.now() - started },
        transfer,
      );
    } catch (error) {
      // The thread lives on; the caller keeps its last model and retries on the next change.
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.post({ type: 'failed', version: message.version, message: text }, []);
    }
  }
}
