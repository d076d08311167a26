/**
 * @module jarvis_agent/a2a-server
 * Jarvis as an A2A agent (protocol 0.3.0, through `@a2a-js/sdk`'s request handler): its card at
 * `/.well-known/agent-card.json` and JSON-RPC `message/send` at `/a2a/jsonrpc`. Each message is one chat turn
 * through the same `ChatService` as `POST /chat`, so the conversation is recorded as a session; an A2A
 * `contextId` keeps to one session (the reply's metadata names it).
 */
import { randomUUID } from 'node:crypto';
import type { AgentCard, AgentSkill, Message } from '@a2a-js/sdk';
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBus,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  type RequestContext,
} from '@a2a-js/sdk/server';
import { A2A_PROTOCOL_VERSION } from '../src/a2a/agent-card.js';
import { isAppError, messageOf } from '../src/errors.js';
import type { ChatService } from './chat-service.js';
import type { DynamicRouter } from './dynamic-router.js';

export const AGENT_CARD_ROUTE = '/.well-known/agent-card.json';
export const A2A_JSONRPC_ROUTE = '/a2a/jsonrpc';
/** The session's user when a message's metadata names none. */
export const DEFAULT_A2A_USER = 'a2a';
/** Contexts remembered (oldest forgotten first); a forgotten one starts a new session. */
const MAX_CONTEXTS = 10_000;

export interface JarvisA2aOptions {
  chat: ChatService;
  router: DynamicRouter;
  /** Jarvis's base URL as clients reach it (read when a card is served). */
  baseUrl: () => string;
}

export class JarvisA2a {
  private readonly chat: ChatService;
  private readonly router: DynamicRouter;
  private readonly baseUrl: () => string;
  /** A2A contextId -> session id, least recently used first. */
  private readonly sessions = new Map<string, string>();
  private readonly transport: JsonRpcTransportHandler;

  constructor(options: JarvisA2aOptions) {
    this.chat = options.chat;
    this.router = options.router;
    this.baseUrl = options.baseUrl;
    const executor: AgentExecutor = {
      execute: (context, bus) => this.execute(context, bus),
      cancelTask: async () => {},
    };
    const handler = new DefaultRequestHandler(this.card(), new InMemoryTaskStore(), executor);
    // The card the handler serves is ours, built fresh (skills follow the registry).
    handler.getAgentCard = async () => this.card();
    this.transport = new JsonRpcTransportHandler(handler);
  }

  /** Jarvis's card: one skill per enabled, available agent it can route to. */
  card(): AgentCard {
    const skills: AgentSkill[] = [];
    for (const agent of this.router.records.values()) {
      if (!agent.enabled || agent.status !== 'available') continue;
      const examples = agent.capabilities.examples;
      skills.push({
        id: agent.name,
        name: agent.name,
        description: agent.description === '' ? agent.name : agent.description,
        tags: [...agent.tags],
        examples: Array.isArray(examples)
          ? examples.filter((e): e is string => typeof e === 'string').slice(0, 5)
          : [],
      });
    }
    return {
      protocolVersion: A2A_PROTOCOL_VERSION,
      name: 'jarvis',
      description: 'Jarvis, the orchestrator: routes each message to the registered agents that fit it',
      url: `${this.baseUrl()}${A2A_JSONRPC_ROUTE}`,
      preferredTransport: 'JSONRPC',
      version: '1.0.0',
      capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: false },
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['text/plain'],
      skills,
    };
  }

  /** Answer one JSON-RPC request body. Streaming methods are refused (the card says streaming: false). */
  async handle(body: unknown): Promise<unknown> {
    const request = body as { id?: unknown; method?: unknown } | null;
    const method = typeof request?.method === 'string' ? request.method : '';
    if (method === 'message/stream' || method === 'tasks/resubscribe') {
      return {
        jsonrpc: '2.0',
        id: request?.id ?? null,
        error: { code: -32004, message: `${method} is not supported: Jarvis answers message/send` },
      };
    }
    const result = await this.transport.handle(body);
    if (Symbol.asyncIterator in (result as object)) {
      // Not reached for the methods above; never leave a generator running.
      await (result as AsyncGenerator).return(undefined);
      return { jsonrpc: '2.0', id: request?.id ?? null, error: { code: -32004, message: 'not supported' } };
    }
    return result;
  }

  private async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { userMessage, contextId } = context;
    const text = userMessage.parts
      .map((part) => (part.kind === 'text' ? part.text : ''))
      .filter((part) => part.trim() !== '')
      .join('\n');
    const metadataUser = userMessage.metadata?.user_id;
    const userId =
      typeof metadataUser === 'string' && metadataUser !== '' ? metadataUser.slice(0, 256) : DEFAULT_A2A_USER;
    const known = this.sessions.get(contextId);
    let reply: string;
    let metadata: Record<string, unknown> = {};
    try {
      if (text === '') throw new Error('the message has no text part');
      const answer = await this.chat.chat({
        user_id: userId,
        message: text.slice(0, 4000),
        ...(known !== undefined && { session_id: known }),
      });
      this.remember(contextId, answer.session_id);
      reply = answer.response;
      metadata = { session_id: answer.session_id, agents: answer.agents };
    } catch (error) {
      reply = `Jarvis could not answer: ${isAppError(error) ? error.message : messageOf(error)}`;
    }
    const message: Message = {
      kind: 'message',
      messageId: randomUUID(),
      role: 'agent',
      contextId,
      parts: [{ kind: 'text', text: reply }],
      metadata,
    };
    bus.publish(message);
    bus.finished();
  }

  private remember(contextId: string, sessionId: string): void {
    this.sessions.delete(contextId);
    this.sessions.set(contextId, sessionId);
    if (this.sessions.size > MAX_CONTEXTS) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
  }
}
