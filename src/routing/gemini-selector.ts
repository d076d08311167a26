/**
 * @module routing/gemini-selector
 * Stage 2 with an LLM: Gemini reads the query and the candidates and answers JSON
 * `{"selected": [...], "follow_up": bool}`. Anything but a valid answer naming known candidates, in time,
 * rejects, and the router falls back to its offline decision.
 */
import { AppError, messageOf } from '../errors.js';
import type { CandidateSelector, Selection, SelectionRequest } from './candidate-selector.js';

/** The slice of `@google/genai`'s `GoogleGenAI` this selector uses; a fake with canned answers fits too. */
export interface GenerateContentClient {
  readonly models: {
    generateContent(params: {
      model: string;
      contents: string;
      config?: {
        systemInstruction?: string;
        responseMimeType?: string;
        responseJsonSchema?: unknown;
        temperature?: number;
        abortSignal?: AbortSignal;
      };
    }): Promise<{ readonly text?: string | undefined }>;
  };
}

export interface GeminiSelectorOptions {
  client: GenerateContentClient;
  model: string;
  /** Milliseconds before the call is abandoned (and aborted) and the offline decision is used. */
  timeoutMs: number;
}

const SYSTEM_INSTRUCTION = [
  'You route a user message to the agents that should answer it.',
  'Choose only among the candidate agents listed (use their exact names).',
  'Select several agents only when the message asks for several different things.',
  'Select none when no candidate fits the message.',
  'If the message continues the conversation with the previous agent (e.g. "show details", "the second one"),',
  'select that agent and set follow_up to true.',
  'Answer with JSON only: {"selected": [names], "follow_up": boolean}.',
].join(' ');

const RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    selected: { type: 'array', items: { type: 'string' } },
    follow_up: { type: 'boolean' },
  },
  required: ['selected', 'follow_up'],
} as const;

export class GeminiSelector implements CandidateSelector {
  private readonly client: GenerateContentClient;
  private readonly model: string;
  private readonly timeoutMs: number;

  constructor(options: GeminiSelectorOptions) {
    this.client = options.client;
    this.model = options.model;
    this.timeoutMs = options.timeoutMs;
  }

  async select(request: SelectionRequest): Promise<Selection> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Settle the race first: aborting makes the call reject too, and the timeout must win.
        reject(new AppError('timeout', `The router's LLM did not answer within ${this.timeoutMs} ms`));
        controller.abort();
      }, this.timeoutMs);
    });
    try {
      const call = this.client.models.generateContent({
        model: this.model,
        contents: prompt(request),
        config: {
          systemInstruction: SYSTEM_INSTRUCTION,
          responseMimeType: 'application/json',
          responseJsonSchema: RESPONSE_SCHEMA,
          temperature: 0,
          abortSignal: controller.signal,
        },
      });
      call.catch(() => {}); // a late rejection after the timeout must not go unhandled
      const response = await Promise.race([call, timeout]);
      return parseSelection(response.text, request);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('upstream_error', `The router's LLM call failed: ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

function prompt(request: SelectionRequest): string {
  const candidates = request.candidates.map((candidate) => ({
    name: candidate.name,
    description: candidate.description,
    examples: candidate.examples.slice(0, 3),
  }));
  return JSON.stringify({
    message: request.query,
    previous_agent: request.lastAgent,
    candidates,
  });
}

/** Validates the model's JSON against the request: known names only, no duplicates. */
export function parseSelection(text: string | undefined, request: SelectionRequest): Selection {
  let answer: unknown;
  try {
    answer = JSON.parse(text ?? '');
  } catch (error) {
    throw new AppError('upstream_error', "The router's LLM answered with invalid JSON", { cause: error });
  }
  if (typeof answer !== 'object' || answer === null) {
    throw new AppError('upstream_error', "The router's LLM answer is not a JSON object");
  }
  const { selected, follow_up: followUp } = answer as { selected?: unknown; follow_up?: unknown };
  if (!Array.isArray(selected) || !selected.every((name) => typeof name === 'string')) {
    throw new AppError('upstream_error', 'The router\'s LLM answer lacks a "selected" array of names');
  }
  const allowed = new Set(request.candidates.map((candidate) => candidate.name));
  if (request.lastAgent !== null) allowed.add(request.lastAgent);
  const unknown = selected.filter((name) => !allowed.has(name));
  if (unknown.length > 0) {
    throw new AppError(
      'upstream_error',
      `The router's LLM chose agents that are not candidates: ${unknown.join(', ')}`,
    );
  }
  const isFollowUp = followUp === true && request.lastAgent !== null && selected.includes(request.lastAgent);
  return { selected: [...new Set(selected as string[])], follow_up: isFollowUp };
}
