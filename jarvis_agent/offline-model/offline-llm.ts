/**
 * @module jarvis_agent/offline-model/offline-llm
 * A deterministic local stand-in for Gemini, so the demo agents work without `GOOGLE_API_KEY`: it calls
 * the agent's best-matching tool with arguments read from the user's words, then renders the tool's
 * result. Every reply it writes ends with {@link OFFLINE_MODEL_MARKER}.
 */
import { BaseLlm, type BaseLlmConnection, type LlmRequest, type LlmResponse } from '@google/adk';
import { ConversationHistory } from './conversation-history.js';
import { renderFunctionResponse } from './render-response.js';
import { selectTool } from './select-tool.js';
import { readToolSpecs, type ToolSpec } from './tool-specs.js';

/** Ends every reply of the offline model; tests and clients look for it. */
export const OFFLINE_MODEL_MARKER = '(answered by the offline model; set GOOGLE_API_KEY to use Gemini)';

/** The `model` name the offline model reports. */
export const OFFLINE_MODEL_NAME = 'offline-deterministic';

export interface OfflineLlmOptions {
  /**
   * Today's date for "last month" and month names, used when the agent's instruction does not state
   * it as `Today is YYYY-MM-DD` (the demo agents do, so that model and tools agree on the date).
   */
  readonly now?: () => Date;
}

const TODAY_IN_INSTRUCTION = /\bToday is (\d{4}-\d{2}-\d{2})\b/;
const AGENT_NAME_IN_INSTRUCTION = /Your internal name is "([^"]+)"/;
const DESCRIPTION_IN_INSTRUCTION = /The description about you is "([^\n]*)"/;

interface AgentIdentity {
  readonly name: string;
  readonly description: string;
}

function firstSentence(text: string): string {
  const sentence = /^[^\n]*?[.!?](?=\s|$)/.exec(text.trim())?.[0] ?? text.trim().split('\n')[0] ?? '';
  return sentence.trim();
}

export class OfflineLlm extends BaseLlm {
  private readonly now: () => Date;

  constructor(options: OfflineLlmOptions = {}) {
    super({ model: OFFLINE_MODEL_NAME });
    this.now = options.now ?? (() => new Date());
  }

  override async *generateContentAsync(llmRequest: LlmRequest): AsyncGenerator<LlmResponse, void> {
    yield this.respond(llmRequest);
  }

  /** Live (bidirectional) sessions need a real model. */
  override async connect(_llmRequest: LlmRequest): Promise<BaseLlmConnection> {
    throw new Error(
      'Live (bidirectional streaming) connections are not supported offline: the offline model only answers ' +
        'request/response turns. Set GOOGLE_API_KEY to use Gemini Live.',
    );
  }

  /** One deterministic answer to `llmRequest`; never throws. */
  respond(llmRequest: LlmRequest): LlmResponse {
    try {
      return this.answer(llmRequest);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return textResponse(`The offline model could not handle this request (${reason}).`);
    }
  }

  private answer(llmRequest: LlmRequest): LlmResponse {
    const history = new ConversationHistory(llmRequest.contents);
    const answered = history.trailingResponses();
    if (answered.length > 0) return textResponse(answered.map(renderFunctionResponse).join('\n\n'));

    const instruction = systemInstructionOf(llmRequest);
    const identity = identityOf(llmRequest, instruction);
    const tools = readToolSpecs(llmRequest);
    const query = history.latestUserText();
    const choice =
      query === '' ? undefined : selectTool(query, tools, { today: this.today(instruction), history });
    if (choice === undefined) return textResponse(capabilities(identity, tools, query));

    const { tool, extraction } = choice;
    if (extraction.ambiguous !== undefined) {
      const { param, candidates } = extraction.ambiguous;
      return textResponse(
        `Which one do you mean? ${tool.name} needs one ${param.name}; the last results mention ` +
          `${candidates.join(', ')}. Say for example "the second one" or give the ${param.name}.`,
      );
    }
    if (extraction.missing.length > 0) {
      const needs = extraction.missing.map((param) =>
        param.description === '' ? param.name : `${param.name} (${param.description})`,
      );
      return textResponse(
        `To use ${tool.name} I need ${needs.join(' and ')}. Please include it in your request.`,
      );
    }
    return {
      content: { role: 'model', parts: [{ functionCall: { name: tool.name, args: extraction.args } }] },
    };
  }

  private today(instruction: string): Date {
    const stated = TODAY_IN_INSTRUCTION.exec(instruction)?.[1];
    const date = stated === undefined ? undefined : new Date(`${stated}T00:00:00Z`);
    return date !== undefined && !Number.isNaN(date.getTime()) ? date : this.now();
  }
}

function textResponse(text: string): LlmResponse {
  return { content: { role: 'model', parts: [{ text: `${text}\n\n${OFFLINE_MODEL_MARKER}` }] } };
}

function systemInstructionOf(llmRequest: LlmRequest): string {
  const instruction: unknown = llmRequest.config?.systemInstruction;
  if (typeof instruction === 'string') return instruction;
  const parts = (instruction as { parts?: unknown } | undefined)?.parts;
  if (!Array.isArray(parts)) return '';
  return parts
    .map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : ''))
    .join('\n');
}

function identityOf(llmRequest: LlmRequest, instruction: string): AgentIdentity {
  const label = llmRequest.config?.labels?.adk_agent_name;
  const name = label ?? AGENT_NAME_IN_INSTRUCTION.exec(instruction)?.[1] ?? 'this agent';
  const description =
    DESCRIPTION_IN_INSTRUCTION.exec(instruction)?.[1] ??
    firstSentence(instruction.replace(/^You are an agent\.[^\n]*\n*/, ''));
  return { name, description };
}

/** What the agent can help with, for requests no tool fits. */
function capabilities(identity: AgentIdentity, tools: readonly ToolSpec[], query: string): string {
  const about = identity.description.replace(/[.\s]*$/, '');
  if (tools.length === 0) {
    const purpose = about === '' ? '.' : `: ${about}.`;
    return (
      `I'm ${identity.name}${purpose} On the offline model I cannot answer free-form questions, so I can ` +
      'only tell you what I am for.'
    );
  }
  const opening =
    query === ''
      ? `I'm ${identity.name}.`
      : `I'm ${identity.name} and I could not match "${query.slice(0, 120)}" to anything I can do.`;
  const lines = tools.map((tool) => `- ${tool.name}: ${firstSentence(tool.description) || 'no description'}`);
  return [`${opening}${about === '' ? '' : ` ${about}.`} I can help with:`, ...lines].join('\n');
}
