/**
 * @module api/rate-limit
 * Per-client request budgets for the calls that cost the most: changes (registry, sessions, `/chat`) and
 * routing. A fixed window per client address; over the budget, `429 rate_limited` with `Retry-After`.
 * Reads are not limited. The counters live in the process: each replica counts its own clients.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

export interface RateLimits {
  /** Changes one client may make per minute; 0 means no limit. */
  writesPerMinute: number;
  /** Routing calls one client may make per minute; 0 means no limit. */
  routingPerMinute: number;
  /** The clock (tests inject one). */
  now?: () => number;
}

/** Which budget a request draws on. */
export type RateLimitClass = 'write' | 'routing';

const WINDOW_MS = 60_000;
/** Clients remembered at most; the oldest window is forgotten first. */
const MAX_CLIENTS = 10_000;
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Routing is `POST /registry/route` and whatever lies under it; every other non-read call is a change. */
export function rateLimitClass(method: string, route: string | undefined): RateLimitClass | undefined {
  if (READS.has(method) || route === undefined) return undefined;
  return route === '/registry/route' || route.startsWith('/registry/route/') ? 'routing' : 'write';
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A fixed-window counter per key, at most `limit` hits per window. */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    private readonly now: () => number = Date.now,
    readonly windowMs: number = WINDOW_MS,
    private readonly maxKeys: number = MAX_CLIENTS,
  ) {}

  take(key: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (window === undefined || now - window.start >= this.windowMs) {
      if (window === undefined && this.windows.size >= this.maxKeys) this.evict(now);
      window = { start: now, count: 0 };
      // Re-inserted, so the map stays ordered by window start and eviction drops the oldest.
      this.windows.delete(key);
      this.windows.set(key, window);
    }
    if (window.count >= this.limit) {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)),
      };
    }
    window.count++;
    return { allowed: true };
  }

  /** Clients remembered now. */
  get size(): number {
    return this.windows.size;
  }

  private evict(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(key);
      else break;
    }
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
  }
}

const WHAT: Record<RateLimitClass, string> = { write: 'changes', routing: 'routing calls' };

/** A Fastify `onRequest` hook enforcing `limits` per client address. */
export function rateLimitHook(limits: RateLimits) {
  const now = limits.now ?? Date.now;
  const limiters: Record<RateLimitClass, FixedWindowLimiter | undefined> = {
    write: limits.writesPerMinute > 0 ? new FixedWindowLimiter(limits.writesPerMinute, now) : undefined,
    routing: limits.routingPerMinute > 0 ? new FixedWindowLimiter(limits.routingPerMinute, now) : undefined,
  };
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const kind = rateLimitClass(request.method, request.routeOptions.url);
    const limiter = kind === undefined ? undefined : limiters[kind];
    if (kind === undefined || limiter === undefined) return;
    const decision = limiter.take(request.ip);
    if (decision.allowed) return;
    void reply.header('retry-after', String(decision.retryAfterSeconds));
    throw new AppError(
      'rate_limited',
      `Too many ${WHAT[kind]} from this client: at most ${limiter.limit} per minute; retry after ` +
        `${decision.retryAfterSeconds} s`,
    );
  };
}
