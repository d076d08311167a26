/**
 * @module metrics/instrumented-router
 * Wraps a router so every routing call is timed and its decision counted (agents selected, none fits, a
 * follow-up, an error). The router itself is untouched; its training state is read at scrape time.
 */
import { performance } from 'node:perf_hooks';
import type { RouteOutcome, ServiceMetrics } from './service-metrics.js';

/** What the decision counter reads from a routing result. */
export interface RouteDecision {
  readonly selected: readonly string[];
  readonly follow_up: boolean;
}

/** The router slice the HTTP layer calls: `route` and its training `stats`. */
export interface MeasurableRouter<Options, Decision extends RouteDecision, Stats> {
  route(query: string, options?: Options): Promise<Decision>;
  stats(): Stats;
}

export function instrumentRouter<Options, Decision extends RouteDecision, Stats>(
  router: MeasurableRouter<Options, Decision, Stats>,
  metrics: ServiceMetrics,
): MeasurableRouter<Options, Decision, Stats> {
  return {
    async route(query, options) {
      const started = performance.now();
      let outcome: RouteOutcome = 'error';
      try {
        const decision = await router.route(query, options);
        outcome = decision.follow_up ? 'follow_up' : decision.selected.length === 0 ? 'none' : 'selected';
        return decision;
      } finally {
        metrics.observeRoute(outcome, (performance.now() - started) / 1000);
      }
    },
    stats: () => router.stats(),
  };
}
