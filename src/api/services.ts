/**
 * @module api/services
 * What the HTTP layer needs, as interfaces; `main.ts` chooses the implementations.
 */

import type { RemoteAgents } from '../a2a/remote-agents.js';
import type { CapabilityProbes } from '../insight/capability-probes.js';
import type { DecisionLog } from '../insight/decision-log.js';
import type { RouteReplay } from '../insight/route-replay.js';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { SessionContext } from '../sessions/session-record.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { httpOptions } from './base-app.js';
import type { RequestDrain } from './request-drain.js';

export interface RouteOptions {
  topK?: number;
  context?: Pick<SessionContext, 'last_agent_called' | 'updated_at'>;
}

export interface RouteResult {
  selected: string[];
  candidates: { name: string; score: number }[];
  follow_up: boolean;
  /** With two or more agents selected: what each should be asked. */
  parts?: Record<string, string>;
}

/** What `/health` shows of the router's training. */
export interface RouterTrainingStats {
  agents: number;
  trained: boolean;
  pendingAgents: number;
  builds: number;
  lastBuildMs: number | null;
  longestSliceMs: number;
  /** The "none fits" threshold in use, and whether it was fitted, configured or is the small-registry default. */
  minConfidence: number;
  minConfidenceSource: 'fitted' | 'configured' | 'default';
}

/** Picks agents for a query (the two-stage router). */
export interface QueryRouter {
  route(query: string, options?: RouteOptions): Promise<RouteResult>;
  stats(): RouterTrainingStats;
}

export interface AppServices {
  registry: AgentRegistry;
  sessions: SessionStore;
  router: QueryRouter;
  logger: Logger;
  /** Serve `/metrics` and count requests; without it there is no metrics endpoint. */
  metrics?: ServiceMetrics;
  /** Log every routing decision; without it nothing is logged. */
  decisionLog?: DecisionLog;
  /** Serve `POST /registry/route/replay`; without it there is no replay endpoint. */
  replay?: RouteReplay;
  /** Capability probes shown in agent views, registrations and `/health`; without them none. */
  probes?: CapabilityProbes;
  /** Remote A2A agents (registration by card URL, refresh); without it they are refused. */
  remoteAgents?: RemoteAgents;
}

export interface AppOptions {
  /** Bearer token for mutating registry calls (REGISTRY_ADMIN_TOKEN). */
  adminToken?: string | undefined;
  /** Further admin tokens with the labels their changes are recorded under (REGISTRY_ADMIN_TOKENS). */
  adminTokens?: readonly { label: string; token: string }[] | undefined;
  /** Bearer token for every `/sessions` call (REGISTRY_API_TOKEN). */
  apiToken?: string | undefined;
  /** Bearer token for registry reads, routing and `/metrics` (REGISTRY_READ_TOKEN); the admin token also works. */
  readToken?: string | undefined;
  /** Graceful shutdown: counts requests in flight, refuses new ones once draining, flips readiness. */
  drain?: RequestDrain;
  /** Origins allowed by CORS; empty means none. */
  corsOrigins?: readonly string[];
  /** Maximum request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** When the process started, for `/health`. */
  startedAt?: Date;
  /** The `url` our agents' A2A cards name (Jarvis's A2A JSON-RPC endpoint). */
  a2aUrl?: string;
  /** Timeouts, the connection cap and the `Host` check of the HTTP server. */
  http?: ReturnType<typeof httpOptions>;
  /** The built web UI served at `/ui` (default: the build's `dist/ui`). */
  uiDir?: string;
}
