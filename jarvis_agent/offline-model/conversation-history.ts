/**
 * @module jarvis_agent/offline-model/conversation-history
 * What the offline model remembers of a conversation: ADK replays the whole session in
 * `llmRequest.contents`, so follow-ups ("the second one", "show details") are resolved from earlier turns.
 */
import type { Content, FunctionCall, FunctionResponse } from '@google/genai';

/** Ticket-, course- or order-style identifiers: `INC-1002`, `CRS-204`, `PO-88123`. */
const ID_PATTERN = /\b[A-Za-z]{2,8}-\d{2,8}\b/g;

/** ADK prefixes events of other agents with this when it replays them as user content. */
const FOREIGN_EVENT_PREFIX = 'For context:';

export type JsonRecord = Record<string, unknown>;

export interface AnsweredCall {
  readonly name: string;
  readonly response: JsonRecord;
  /** Arguments of the matching function call, when the call is still in the history. */
  readonly args: JsonRecord;
}

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Identifier-like tokens of `text`, upper-cased, in order of appearance, without duplicates. */
export function findIds(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(ID_PATTERN), (match) => match[0].toUpperCase()))];
}

export function looksLikeId(value: unknown): value is string {
  return typeof value === 'string' && new RegExp(`^${ID_PATTERN.source}$`).test(value);
}

/** The list of records in a function response: a top-level array, or its first array of objects. */
export function recordsOf(response: JsonRecord): JsonRecord[] {
  for (const value of Object.values(response)) {
    if (Array.isArray(value) && value.some(isRecord)) return value.filter(isRecord);
  }
  return [];
}

export class ConversationHistory {
  private readonly contents: readonly Content[];

  constructor(contents: readonly Content[] | undefined) {
    this.contents = Array.isArray(contents) ? contents : [];
  }

  /** Index of the user's latest own message (not a tool result, not another agent's replayed event). */
  private latestUserIndex(): number {
    for (let i = this.contents.length - 1; i >= 0; i--) {
      const content = this.contents[i];
      if (content?.role !== 'user') continue;
      const text = this.textOf(content);
      if (text !== '' && !text.startsWith(FOREIGN_EVENT_PREFIX)) return i;
    }
    return -1;
  }

  private textOf(content: Content | undefined): string {
    return (content?.parts ?? [])
      .map((part) => (typeof part.text === 'string' && part.thought !== true ? part.text : ''))
      .filter((text) => text !== '')
      .join('\n')
      .trim();
  }

  /** The user's latest message, or `''` when there is none. */
  latestUserText(): string {
    return this.textOf(this.contents[this.latestUserIndex()]);
  }

  /**
   * The function responses that end the conversation (the model must now answer them), each with the
   * arguments it was called with. Empty when the last content is not a function response.
   */
  trailingResponses(): AnsweredCall[] {
    const last = this.contents.at(-1);
    const responses = (last?.parts ?? [])
      .map((part) => part.functionResponse)
      .filter((response): response is FunctionResponse => response !== undefined);
    return responses.map((response) => ({
      name: response.name ?? 'tool',
      response: isRecord(response.response) ? response.response : { result: response.response },
      args: this.argsOf(response),
    }));
  }

  private argsOf(response: FunctionResponse): JsonRecord {
    const calls = this.contents
      .flatMap((content) => content.parts ?? [])
      .map((part) => part.functionCall)
      .filter((call): call is FunctionCall => call !== undefined);
    const match =
      calls.findLast((call) => response.id !== undefined && call.id === response.id) ??
      calls.findLast((call) => call.name === response.name);
    return isRecord(match?.args) ? match.args : {};
  }

  /** Name of the tool called most recently before the user's latest message. */
  previousToolName(): string | undefined {
    const end = this.latestUserIndex();
    for (let i = end - 1; i >= 0; i--) {
      const call = this.contents[i]?.parts?.find((part) => part.functionCall)?.functionCall;
      if (call?.name !== undefined) return call.name;
    }
    return undefined;
  }

  /**
   * The records of the most recent tool result before the user's latest message that has any: the
   * items of a listing, or (unless `listsOnly`, as for "the second one") the single object a details
   * call returned.
   */
  recentRecords(listsOnly = false): JsonRecord[] {
    for (let i = this.latestUserIndex() - 1; i >= 0; i--) {
      for (const part of this.contents[i]?.parts ?? []) {
        const response = part.functionResponse?.response;
        if (!isRecord(response)) continue;
        const records = recordsOf(response);
        if (records.length > 0) return records;
        const single = Object.values(response).find(isRecord) ?? response;
        if (!listsOnly && Object.values(single).some(looksLikeId)) return [single];
      }
    }
    return [];
  }

  /**
   * Identifiers mentioned in the most recent earlier turn that mentions any, in order: the fallback
   * when tool results are not in the history (another agent's replayed text, a rendered reply).
   */
  recentIdsInText(): string[] {
    for (let i = this.latestUserIndex() - 1; i >= 0; i--) {
      const ids = findIds(this.textOf(this.contents[i]));
      if (ids.length > 0) return ids;
    }
    return [];
  }
}
