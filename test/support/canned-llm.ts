/**
 * @module test/support/canned-llm
 * The one thing tests fake: the LLM. A `BaseLlm` that answers with canned text, so agents run without a network.
 * The answer is fixed, or computed from the request (e.g. to echo the user's message and prove isolation).
 */
import { BaseLlm, type LlmRequest, type LlmResponse } from '@google/adk';

export type CannedAnswer = string | ((request: LlmRequest) => string);

export class CannedLlm extends BaseLlm {
  readonly requests: LlmRequest[] = [];

  constructor(private readonly answer: CannedAnswer = 'canned answer') {
    super({ model: 'canned' });
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    const text = typeof this.answer === 'string' ? this.answer : this.answer(request);
    yield { content: { role: 'model', parts: [{ text }] } };
  }

  override async connect(): Promise<never> {
    throw new Error('CannedLlm does not support live connections');
  }
}

/** The text of the last user message in a request (what the agent was just asked). */
export function lastUserText(request: LlmRequest): string {
  const user = [...request.contents].reverse().find((content) => content.role === 'user');
  return (user?.parts ?? []).map((part) => part.text ?? '').join('');
}
