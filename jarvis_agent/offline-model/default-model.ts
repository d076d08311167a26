/**
 * @module jarvis_agent/offline-model/default-model
 * The model the host hands to agent factories: Gemini when an API key is configured, otherwise the
 * offline deterministic model, so a fresh checkout works without credentials.
 */
import { type BaseLlm, Gemini } from '@google/adk';
import type { Config } from '../../src/config.js';
import { OfflineLlm } from './offline-llm.js';

/**
 * Gemini with the configured key passed explicitly (ADK would otherwise read the environment itself),
 * or {@link OfflineLlm} when `googleApiKey` is unset.
 */
export function createDefaultModel(config: Pick<Config, 'googleApiKey' | 'geminiModel'>): BaseLlm {
  if (config.googleApiKey === undefined || config.googleApiKey === '') return new OfflineLlm();
  return new Gemini({ model: config.geminiModel, apiKey: config.googleApiKey });
}
