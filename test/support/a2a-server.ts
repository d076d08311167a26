/**
 * @module test/support/a2a-server
 * A real A2A server on loopback: an ADK agent behind ADK's `A2AAgentExecutor` and `@a2a-js/sdk`'s request
 * handler and JSON-RPC transport (message/send and message/stream over SSE), its card at
 * `/.well-known/agent-card.json`. Extra routes let a test serve other documents (oversized, invalid,
 * redirects). The agent answers deterministically: "<prefix>: <the question>".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentCard } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore, JsonRpcTransportHandler } from '@a2a-js/sdk/server';
import {
  BaseAgent,
  createEvent,
  type Event,
  InMemorySessionService,
  type InvocationContext,
} from '@google/adk';
import { A2AAgentExecutor } from '@google/adk/a2a';

/** Answers every question with `prefix: question`. */
class EchoAgent extends BaseAgent {
  constructor(
    name: string,
    private readonly prefix: string,
  ) {
    super({ name, description: `Answers with ${prefix}` });
  }

  protected async *runAsyncImpl(context: InvocationContext): AsyncGenerator<Event, void, void> {
    const last = context.session.events.at(-1);
    const question = (last?.content?.parts ?? []).map((part) => part.text ?? '').join(' ');
    yield createEvent({
      invocationId: context.invocationId,
      author: this.name,
      content: { role: 'model', parts: [{ text: `${this.prefix}: ${question}` }] },
    });
  }

  protected async *runLiveImpl(): AsyncGenerator<Event, void, void> {}
}

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface A2aTestServer {
  readonly url: string;
  readonly cardUrl: string;
  /** The card served (change it to simulate an updated agent). */
  card: AgentCard;
  /** Messages received, as text. */
  readonly received: string[];
  /** Serve something else at `path`. */
  route(path: string, handler: RouteHandler): void;
  stop(): Promise<void>;
}

export interface A2aTestServerOptions {
  name?: string;
  prefix?: string;
  description?: string;
  examples?: string[];
}

export async function startA2aServer(options: A2aTestServerOptions = {}): Promise<A2aTestServer> {
  const name = options.name ?? 'Weather Agent';
  const agent = new EchoAgent('weather', options.prefix ?? 'Forecast');
  const routes = new Map<string, RouteHandler>();
  const received: string[] = [];
  let server: Server | undefined;
  const state = { card: undefined as unknown as AgentCard };
  const executor = new A2AAgentExecutor({
    runner: { agent, appName: 'weather', sessionService: new InMemorySessionService() },
  });
  const handler = new DefaultRequestHandler(
    { capabilities: { streaming: true } } as AgentCard, // replaced below, once the port is known
    new InMemoryTaskStore(),
    executor,
  );
  handler.getAgentCard = async () => state.card;
  const transport = new JsonRpcTransportHandler(handler);

  server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const custom = routes.get(path);
    if (custom !== undefined) return custom(request, response);
    if (request.method === 'GET' && path === '/.well-known/agent-card.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(state.card));
      return;
    }
    if (request.method === 'POST' && path === '/jsonrpc') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void (async () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          for (const part of body?.params?.message?.parts ?? []) {
            if (part.kind === 'text') received.push(part.text);
          }
          // The handler checks the card it was built with: keep its capabilities current.
          (handler as unknown as { agentCard: AgentCard }).agentCard = state.card;
          const result = await transport.handle(body);
          if (Symbol.asyncIterator in (result as object)) {
            response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            for await (const event of result as AsyncGenerator<unknown>) {
              response.write(`data: ${JSON.stringify(event)}\n\n`);
            }
            response.end();
          } else {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(JSON.stringify(result));
          }
        })().catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
      });
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  state.card = {
    protocolVersion: '0.3.0',
    name,
    description: options.description ?? 'Weather forecasts for any city',
    url: `${url}/jsonrpc`,
    preferredTransport: 'JSONRPC',
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: false },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [
      {
        id: 'forecast',
        name: 'Weather forecast',
        description: 'The weather forecast for a city: rain, sun, temperature',
        tags: ['weather'],
        examples: options.examples ?? [
          'what is the weather forecast for Paris',
          'will it rain tomorrow in London',
          'how warm will it be in Rome this weekend',
        ],
      },
    ],
  };
  let stopped = false;
  return {
    url,
    cardUrl: `${url}/.well-known/agent-card.json`,
    get card() {
      return state.card;
    },
    set card(card: AgentCard) {
      state.card = card;
    },
    received,
    route: (path, routeHandler) => routes.set(path, routeHandler),
    async stop() {
      if (stopped) return;
      stopped = true;
      server!.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
