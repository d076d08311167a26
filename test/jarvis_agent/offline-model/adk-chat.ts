/**
 * @module test/jarvis_agent/offline-model/adk-chat
 * Drives an agent through ADK's real `Runner` and `InMemorySessionService`, one session per chat, and
 * collects per turn the tool calls, tool results and final text.
 */
import { type BaseAgent, InMemorySessionService, isFinalResponse, Runner } from '@google/adk';

export interface Turn {
  readonly calls: { name: string; args: Record<string, unknown> }[];
  readonly responses: { name: string; response: Record<string, unknown> }[];
  readonly text: string;
}

export type Chat = (query: string) => Promise<Turn>;

/** A chat with `agent` in one ADK session: every call is a user turn in the same conversation. */
export async function startChat(agent: BaseAgent): Promise<Chat> {
  const runner = new Runner({ appName: 'offline-test', agent, sessionService: new InMemorySessionService() });
  const session = await runner.sessionService.createSession({ appName: 'offline-test', userId: 'alex' });
  return async (query) => {
    const turn: Turn = { calls: [], responses: [], text: '' };
    const texts: string[] = [];
    for await (const event of runner.runAsync({
      userId: 'alex',
      sessionId: session.id,
      newMessage: { role: 'user', parts: [{ text: query }] },
    })) {
      if (event.errorMessage) throw new Error(`ADK error event: ${event.errorMessage}`);
      for (const part of event.content?.parts ?? []) {
        if (part.functionCall)
          turn.calls.push({ name: part.functionCall.name ?? '', args: part.functionCall.args ?? {} });
        if (part.functionResponse) {
          turn.responses.push({
            name: part.functionResponse.name ?? '',
            response: part.functionResponse.response ?? {},
          });
        }
        if (part.text && isFinalResponse(event)) texts.push(part.text);
      }
    }
    return { ...turn, text: texts.join('\n') };
  };
}
