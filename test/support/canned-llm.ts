/**
 * @module test/support/canned-llm
 * The one thing tests fake: the LLM. A `BaseLlm` that answers with canned text, so agents run without a network.
 */
import { BaseLlm, type LlmRequest, type LlmResponse } from '@google/adk';

export class CannedLlm extends BaseLlm {
  readonly requests: LlmRequest[] = [];

  constructor(private readonly answer: string = 'canned answer') {
    super({ model: 'canned' });
  }

  override async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    yield { content: { role: 'model', parts: [{ text: this.answer }] } };
  }

  override async connect(): Promise<never> {
    throw new Error('CannedLlm does not support live connections');
  }
}
