/**
 * @module routing/training-worker-shadow
 * What a shadow-router worker thread does (a what-if replay's "after" router, or its "before" router while
 * the live one is still training), as plain code tests run in-thread. The thread holds one `AgentRouter`
 * configured as the service's offline path: it receives the registry's agents, one change, `train`s
 * (a blocking `trainNow`, which blocks only this thread), then routes batches of queries.
 */
import { messageOf } from '../errors.js';
import { AgentRouter } from './agent-router.js';
import type { RoutableAgent } from './routable-agent.js';
import type { Post } from './training-worker-host.js';

export interface ShadowOptions {
  /** `ROUTER_MIN_CONFIDENCE` when configured; else the fitted threshold, as in the service. */
  readonly minConfidence?: number;
}

/** A change applied to the shadow's registry before training. */
export type ShadowChange = { readonly upsert: RoutableAgent } | { readonly remove: string };

export type ToShadowWorker =
  | { readonly type: 'agents'; readonly agents: readonly RoutableAgent[] }
  | { readonly type: 'train'; readonly change: ShadowChange | null }
  | { readonly type: 'route'; readonly id: number; readonly queries: readonly string[] };

export type FromShadowWorker =
  | { readonly type: 'trained'; readonly ms: number }
  | { readonly type: 'routed'; readonly id: number; readonly selected: string[][] }
  | { readonly type: 'failed'; readonly message: string };

export class ShadowHost {
  private readonly router: AgentRouter;
  /** Agents received, upserted all at once when training starts (no background slices meanwhile). */
  private agents: RoutableAgent[] = [];

  constructor(
    options: ShadowOptions,
    private readonly post: Post<FromShadowWorker>,
  ) {
    // Trained with `trainNow` on this thread, which is a worker already.
    this.router = new AgentRouter({
      trainer: 'inline',
      ...(options.minConfidence !== undefined && { minConfidence: options.minConfidence }),
    });
  }

  handle(message: ToShadowWorker): void {
    try {
      if (message.type === 'agents') {
        this.agents.push(...message.agents);
      } else if (message.type === 'train') {
        const started = performance.now();
        const { change } = message;
        for (const agent of this.agents) this.router.upsert(agent);
        this.agents = [];
        if (change !== null) {
          if ('upsert' in change) this.router.upsert(change.upsert);
          else this.router.remove(change.remove);
        }
        this.router.trainNow();
        this.post({ type: 'trained', ms: performance.now() - started }, []);
      } else {
        const selected = message.queries.map((query) => this.router.routeOffline(query).selected);
        this.post({ type: 'routed', id: message.id, selected }, []);
      }
    } catch (error) {
      this.post({ type: 'failed', message: messageOf(error) }, []);
    }
  }
}
