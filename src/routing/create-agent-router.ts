/**
 * @module routing/create-agent-router
 * The router as the service configures it: the session-context lifetime and the "none fits" threshold from
 * the config, and the Gemini selection stage only when a Google API key is set.
 */
import { GoogleGenAI } from '@google/genai';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { AgentRouter } from './agent-router.js';
import { GeminiSelector } from './gemini-selector.js';

export type RouterConfig = Pick<
  Config,
  'routerContextTtlSeconds' | 'googleApiKey' | 'geminiModel' | 'routerLlmTimeoutMs' | 'routerMinConfidence'
>;

export function createAgentRouter(config: RouterConfig, logger: Logger): AgentRouter {
  return new AgentRouter({
    contextTtlMs: config.routerContextTtlSeconds * 1000,
    logger,
    ...(config.routerMinConfidence !== undefined && { minConfidence: config.routerMinConfidence }),
    ...(config.googleApiKey !== undefined && {
      selector: new GeminiSelector({
        client: new GoogleGenAI({ apiKey: config.googleApiKey }),
        model: config.geminiModel,
        timeoutMs: config.routerLlmTimeoutMs,
      }),
    }),
  });
}
