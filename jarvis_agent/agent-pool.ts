/**
 * @module jarvis_agent/agent-pool
 * The orchestrator's live agents: recreated locally from the registry's factory configs (through the guarded
 * resolver), each with its own ADK `Runner`, and one ADK session per chat so an agent sees its own earlier
 * turns. With `adkSessions` (Jarvis passes the service's), the sessions live in the session store: each agent
 * is its own ADK app (`jarvis.<agent name>`) in the chat's session, and after a restart it sees all its
 * earlier events, tool calls and results included. Without it they are in memory. A record whose factory
 * config changes is rebuilt.
 */
import {
  type BaseAgent,
  type BaseSessionService,
  createEvent,
  InMemorySessionService,
  isFinalResponse,
  Runner,
} from '@google/adk';
import { StoreSessionService } from '../src/adk/store-session-service.js';
import type { Agent } from '../src/client/registry-client.js';
import { AppError } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/logger.js';
import type { AgentFactoryResolver } from '../src/registry/agent-factory-resolver.js';
import type { AdkSessionBackend } from '../src/sessions/adk-session-record.js';

export interface AgentPoolOptions {
  resolver: AgentFactoryResolver;
  /** ADK application name of every runner (default `jarvis`). */
  appName?: string;
  /** A turn that has not finished after this long fails (default 60 s); its run is aborted. */
  turnTimeoutMs?: number;
  /**
   * Where the agents' ADK sessions are kept (the service's session store, over HTTP); in memory when
   * omitted.
   */
  adkSessions?: AdkSessionBackend;
  /** In-memory ADK sessions kept per agent; the least recently used beyond this are dropped (default 1000). */
  maxSessionsPerAgent?: number;
  /** Earlier turns replayed into a new ADK session of an existing chat, at most (default 10). */
  maxRestoredTurns?: number;
  logger?: Logger;
}

/** One earlier exchange between the user and this agent, as the session service recorded it. */
export interface PriorTurn {
  readonly query: string;
  readonly response: string;
}

export interface AgentTurn {
  /** The chat session id; it is also this agent's ADK session id. */
  readonly sessionId: string;
  readonly userId: string;
  readonly message: string;
  /**
   * This agent's earlier turns in this chat, oldest first. Read only when the agent has no ADK session for
   * the chat (Jarvis restarted, or the session was evicted), to give the agent its memory back.
   */
  readonly priorTurns?: () => Promise<readonly PriorTurn[]>;
}

interface PooledAgent {
  /** The record's factory config and registration time: what the instance was built from. */
  readonly fingerprint: string;
  readonly ready: Promise<{ agent: BaseAgent; runner: Runner; appName: string }>;
  /** Chat session id -> user id, least recently used first. */
  readonly sessions: Map<string, string>;
  /** The last turn per chat session: turns of one chat with one agent run one after another. */
  readonly tails: Map<string, Promise<unknown>>;
}

export class AgentPool {
  private readonly resolver: AgentFactoryResolver;
  private readonly appName: string;
  private readonly turnTimeoutMs: number;
  private readonly maxSessions: number;
  private readonly maxRestoredTurns: number;
  private readonly logger: Logger;
  private readonly adkSessions: AdkSessionBackend | undefined;
  private readonly agents = new Map<string, PooledAgent>();

  constructor(options: AgentPoolOptions) {
    this.resolver = options.resolver;
    this.appName = options.appName ?? 'jarvis';
    this.turnTimeoutMs = options.turnTimeoutMs ?? 60_000;
    this.maxSessions = options.maxSessionsPerAgent ?? 1000;
    this.maxRestoredTurns = options.maxRestoredTurns ?? 10;
    this.logger = options.logger ?? silentLogger();
    this.adkSessions = options.adkSessions;
  }

  /** Agents built (or being built). */
  get size(): number {
    return this.agents.size;
  }

  /**
   * Run one turn of the agent `record` describes and return its reply text. Throws when the agent cannot be
   * built, reports an error, answers nothing, or does not finish within the turn timeout.
   */
  async ask(record: Agent, turn: AgentTurn): Promise<string> {
    const pooled = this.pooled(record);
    const previous = pooled.tails.get(turn.sessionId) ?? Promise.resolve();
    const current = previous.then(() => this.runTurn(record.name, pooled, turn));
    const tail = current.catch(() => {});
    pooled.tails.set(turn.sessionId, tail);
    void tail.then(() => {
      if (pooled.tails.get(turn.sessionId) === tail) pooled.tails.delete(turn.sessionId);
    });
    return current;
  }

  /** The cached instance for `record`, rebuilt when its factory config changed. */
  private pooled(record: Agent): PooledAgent {
    const fingerprint = JSON.stringify([
      record.agent_type,
      record.factory_module,
      record.factory_function,
      record.factory_params,
      record.registered_at,
    ]);
    const cached = this.agents.get(record.name);
    if (cached !== undefined && cached.fingerprint === fingerprint) return cached;
    if (cached !== undefined) this.logger.info({ agent: record.name }, 'agent config changed; rebuilding');

    const ready = this.resolver.createAgent(record).then((agent) => {
      // In the store, each agent is an ADK app of its own, so the agents of one chat keep apart.
      const appName = this.adkSessions === undefined ? this.appName : `${this.appName}.${record.name}`;
      const sessionService: BaseSessionService =
        this.adkSessions === undefined
          ? new InMemorySessionService()
          : new StoreSessionService(this.adkSessions);
      return { agent, appName, runner: new Runner({ appName, agent, sessionService }) };
    });
    const pooled: PooledAgent = { fingerprint, ready, sessions: new Map(), tails: new Map() };
    this.agents.set(record.name, pooled);
    // A factory that fails is tried again on the next turn (a module may appear, a service may come back).
    ready.catch(() => {
      if (this.agents.get(record.name) === pooled) this.agents.delete(record.name);
    });
    return pooled;
  }

  private async runTurn(name: string, pooled: PooledAgent, turn: AgentTurn): Promise<string> {
    const { agent, runner, appName } = await pooled.ready;
    await this.ensureSession(pooled, runner, appName, agent.name, turn);

    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AppError('timeout', `${name} did not answer within ${this.turnTimeoutMs} ms`));
      }, this.turnTimeoutMs);
    });
    try {
      return await Promise.race([this.collectReply(runner, turn, controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async collectReply(runner: Runner, turn: AgentTurn, abortSignal: AbortSignal): Promise<string> {
    const texts: string[] = [];
    for await (const event of runner.runAsync({
      userId: turn.userId,
      sessionId: turn.sessionId,
      newMessage: { role: 'user', parts: [{ text: turn.message }] },
      abortSignal,
    })) {
      if (event.errorMessage !== undefined && event.errorMessage !== '') {
        throw new Error(event.errorMessage);
      }
      if (!isFinalResponse(event)) continue;
      for (const part of event.content?.parts ?? []) {
        if (typeof part.text === 'string' && part.thought !== true && part.text.trim() !== '') {
          texts.push(part.text.trim());
        }
      }
    }
    if (texts.length === 0) throw new Error('the agent finished without a reply');
    return texts.join('\n\n');
  }

  /** Make sure the chat has an ADK session with this agent, restoring earlier turns into a new one. */
  private async ensureSession(
    pooled: PooledAgent,
    runner: Runner,
    appName: string,
    author: string,
    turn: AgentTurn,
  ): Promise<void> {
    const key = { appName, userId: turn.userId, sessionId: turn.sessionId };
    // Stored sessions are the chat's own: nothing is kept here, nothing is evicted.
    if (this.adkSessions === undefined) {
      pooled.sessions.delete(turn.sessionId);
      pooled.sessions.set(turn.sessionId, turn.userId);
      this.evict(pooled, runner);
    }
    if ((await runner.sessionService.getSession(key)) !== undefined) return;

    const session = await runner.sessionService.createSession(key);
    let prior: readonly PriorTurn[] = [];
    try {
      prior = (await turn.priorTurns?.()) ?? [];
    } catch (error) {
      // The agent can still answer; it only lacks its memory of this chat.
      this.logger.warn({ err: error, session_id: turn.sessionId }, 'could not restore earlier turns');
    }
    for (const [index, { query, response }] of prior.slice(-this.maxRestoredTurns).entries()) {
      const invocationId = `restored-${index}`;
      for (const event of [
        createEvent({ invocationId, author: 'user', content: { role: 'user', parts: [{ text: query }] } }),
        createEvent({ invocationId, author, content: { role: 'model', parts: [{ text: response }] } }),
      ]) {
        await runner.sessionService.appendEvent({ session, event });
      }
    }
  }

  private evict(pooled: PooledAgent, runner: Runner): void {
    while (pooled.sessions.size > this.maxSessions) {
      const [sessionId, userId] = pooled.sessions.entries().next().value as [string, string];
      pooled.sessions.delete(sessionId);
      void runner.sessionService.deleteSession({ appName: this.appName, userId, sessionId });
    }
  }
}
