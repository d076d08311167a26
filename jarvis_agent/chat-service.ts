/**
 * @module jarvis_agent/chat-service
 * One chat turn of the orchestrator: create or resume the session, store the message, route, ask the
 * selected agents concurrently, track every invocation, store and return the combined reply. A failing
 * agent is a failed invocation named in the reply; the registry service failing is a 502 (or 504).
 */
import { performance } from 'node:perf_hooks';
import type { Agent } from '../src/client/registry-client.js';
import { ServiceCallError } from '../src/client/service-http-client.js';
import type { SessionClient } from '../src/client/session-client.js';
import { AppError, messageOf } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/logger.js';
import type { Invocation } from '../src/sessions/session-record.js';
import type { AgentPool, AgentTurn, PriorTurn } from './agent-pool.js';
import type { DynamicRouter } from './dynamic-router.js';
import type { ChatInvocation, ChatRequest, ChatResponse } from './schemas.js';

export interface ChatServiceOptions {
  sessions: SessionClient;
  router: DynamicRouter;
  pool: AgentPool;
  logger?: Logger;
}

/** A failure reason in a reply is cut to this length (the invocation keeps the whole message). */
const MAX_REASON_LENGTH = 200;

/** What asking one agent came to. */
export type AgentOutcome = {
  readonly agent: string;
  /** What the agent was asked (its part of a message that spans several agents). */
  readonly query: string;
  readonly durationMs: number;
} & (
  | { readonly success: true; readonly reply: string }
  | { readonly success: false; readonly error: string }
);

interface OpenSession {
  readonly sessionId: string;
  /** Whether the session existed before this turn (only then can agents have earlier turns in it). */
  readonly resumed: boolean;
}

export class ChatService {
  private readonly sessions: SessionClient;
  private readonly router: DynamicRouter;
  private readonly pool: AgentPool;
  private readonly logger: Logger;

  constructor(options: ChatServiceOptions) {
    this.sessions = options.sessions;
    this.router = options.router;
    this.pool = options.pool;
    this.logger = options.logger ?? silentLogger();
  }

  /** Answer one message. Throws `AppError`s only: `session_not_found`, `upstream_error`, `timeout`. */
  async chat(request: ChatRequest): Promise<ChatResponse> {
    const { user_id: userId, message } = request;
    const session = await this.openSession(request);
    const { sessionId } = session;
    await this.upstream(
      () => this.sessions.addHistory(sessionId, { role: 'user', content: message }),
      sessionId,
    );

    // The service routes with the session's context (its last agent steers follow-ups).
    const route = await this.upstream(() => this.router.route(message, sessionId), sessionId);
    const priorTurns = session.resumed ? this.priorTurnsLoader(sessionId) : undefined;
    const outcomes = await Promise.all(
      route.agents.map((agent) =>
        this.invoke(agent, {
          sessionId,
          userId,
          message: route.parts?.[agent.name] ?? message,
          ...(priorTurns !== undefined && { priorTurns: () => priorTurns(agent.name) }),
        }),
      ),
    );
    const invocations = outcomes.map(toInvocation);

    // One after another, in selection order: the last successful one becomes the session's context.
    for (const [index, invocation] of invocations.entries()) {
      await this.upstream(
        () =>
          this.sessions.trackInvocation(sessionId, {
            ...invocation,
            query: outcomes[index]!.query,
          }),
        sessionId,
      );
    }

    const response = outcomes.length === 0 ? this.noAgentReply() : composeReply(outcomes);
    await this.upstream(
      () => this.sessions.addHistory(sessionId, { role: 'assistant', content: response }),
      sessionId,
    );
    this.logger.info(
      {
        session_id: sessionId,
        follow_up: route.follow_up,
        invocations: invocations.map(({ agent_name, success, duration_ms }) => ({
          agent_name,
          success,
          duration_ms,
        })),
      },
      'chat answered',
    );
    return { session_id: sessionId, response, agents: route.selected, invocations };
  }

  private async openSession(request: ChatRequest): Promise<OpenSession> {
    const { session_id: requested, user_id: userId } = request;
    if (requested === undefined) {
      const sessionId = await this.upstream(() => this.sessions.createSession(userId, { channel: 'jarvis' }));
      return { sessionId, resumed: false };
    }
    // One message and one invocation are enough: the session's owner and status are what matter here.
    const session = await this.upstream(
      () => this.sessions.getSession(requested, { historyLimit: 1, invocationsLimit: 1 }),
      requested,
    );
    if (session.user_id !== userId) {
      // The same answer as for an unknown id, so session ids cannot be probed across users.
      throw sessionNotFound(requested);
    }
    if (session.status !== 'active') {
      await this.upstream(() => this.sessions.setStatus(requested, 'active'), requested);
    }
    return { sessionId: requested, resumed: true };
  }

  /** Earlier successful turns per agent, read from the session service once per chat turn, when needed. */
  private priorTurnsLoader(sessionId: string): (agentName: string) => Promise<PriorTurn[]> {
    let invocations: Promise<Invocation[]> | undefined;
    return async (agentName) => {
      invocations ??= this.upstream(() => this.sessions.getSession(sessionId), sessionId).then(
        (session) => session.agents_invoked,
      );
      const turns: PriorTurn[] = [];
      for (const call of await invocations) {
        if (call.agent_name === agentName && call.success && call.response !== null) {
          turns.push({ query: call.query, response: call.response });
        }
      }
      return turns;
    };
  }

  private async invoke(agent: Agent, turn: AgentTurn): Promise<AgentOutcome> {
    const started = performance.now();
    const measured = { agent: agent.name, query: turn.message };
    try {
      const reply = await this.pool.ask(agent, turn);
      return { ...measured, durationMs: elapsedSince(started), success: true, reply };
    } catch (error) {
      this.logger.warn(
        { err: error, agent: agent.name, session_id: turn.sessionId },
        'agent invocation failed',
      );
      return { ...measured, durationMs: elapsedSince(started), success: false, error: messageOf(error) };
    }
  }

  /** An honest answer when no agent fits, saying what the available agents are for. */
  private noAgentReply(): string {
    const available = [...this.router.records.values()].filter(
      (agent) => agent.enabled && agent.status === 'available',
    );
    if (available.length === 0) {
      return "I don't have an agent that can answer that, and no agents are available right now.";
    }
    const lines = available.map(
      (agent) => `- ${agent.name}${agent.description === '' ? '' : `: ${agent.description}`}`,
    );
    return ["I don't have an agent that can answer that. The available agents can help with:", ...lines].join(
      '\n',
    );
  }

  /** Run a call to the registry service, turning its failures into the orchestrator's HTTP errors. */
  private async upstream<T>(work: () => Promise<T>, sessionId?: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw upstreamError(error, sessionId);
    }
  }
}

function upstreamError(error: unknown, sessionId: string | undefined): unknown {
  if (!(error instanceof ServiceCallError)) return error;
  if (error.code === 'session_not_found' && sessionId !== undefined) {
    return new AppError('session_not_found', sessionNotFound(sessionId).message, { cause: error });
  }
  const service = `The registry service at ${new URL(error.url).origin}`;
  if (error.failure === 'timeout') {
    return new AppError('timeout', `${service} did not answer in time: ${error.message}`, { cause: error });
  }
  return new AppError('upstream_error', `${service} failed: ${error.message}`, { cause: error });
}

/** One agent: its reply. Several: a labelled section per agent; failures say which agent and why. */
export function composeReply(outcomes: readonly AgentOutcome[]): string {
  const sections = outcomes.map((outcome) => {
    if (!outcome.success) return failureLine(outcome.agent, outcome.error);
    return outcomes.length === 1 ? outcome.reply : `[${outcome.agent}]\n${outcome.reply}`;
  });
  return sections.join('\n\n');
}

function failureLine(agent: string, error: string): string {
  const firstLine = error.split('\n')[0]!.trim();
  const reason =
    firstLine.length > MAX_REASON_LENGTH ? `${firstLine.slice(0, MAX_REASON_LENGTH - 1)}…` : firstLine;
  return `${agent} could not answer: ${reason}`;
}

function toInvocation(outcome: AgentOutcome): ChatInvocation {
  return {
    agent_name: outcome.agent,
    success: outcome.success,
    duration_ms: outcome.durationMs,
    response: outcome.success ? outcome.reply : null,
    error_message: outcome.success ? null : outcome.error,
  };
}

function elapsedSince(started: number): number {
  return Math.max(0, Math.round(performance.now() - started));
}

function sessionNotFound(sessionId: string): AppError {
  return new AppError(
    'session_not_found',
    `No session "${sessionId}" for this user: send the message without session_id to start a new one`,
  );
}
