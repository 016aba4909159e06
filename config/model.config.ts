import * as path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../lib/describe-issues';
import { ConfigError, type EnvOf } from './env';
import { DEMO_TRANSCRIPT_PATH } from './paths';

/** Which model serves each stage, what it costs, and what an incident may spend. */
export type ModelStage = 'triage' | 'reproduce' | 'fix' | 'review';

export type ModelConfig =
  | { provider: 'replay'; transcriptPath: string }
  | {
      provider: 'anthropic' | 'openai' | 'openai-compatible';
      apiKey: string | null;
      baseUrl: string | null;
      models: Record<ModelStage, string>;
      /** How OpenAI-style servers are asked for JSON; self-hosted ones may lack json_schema. */
      structuredOutput: 'json_schema' | 'json_object' | 'prompt';
      /** Record mode: the transcript file the live answers are written to, or null. */
      recordTo: string | null;
    };

export type ModelPrices = Record<string, { inputPerMTok: number; outputPerMTok: number }>;

export const modelEnv = {
  STEWARD_MODEL_PROVIDER: z.enum(['replay', 'anthropic', 'openai', 'openai-compatible']).default('replay'),
  ANTHROPIC_API_KEY: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  STEWARD_MODEL_BASE_URL: z.string().url().optional(),
  STEWARD_MODEL: z.string().optional(),
  STEWARD_MODEL_TRIAGE: z.string().optional(),
  STEWARD_MODEL_REPRODUCE: z.string().optional(),
  STEWARD_MODEL_FIX: z.string().optional(),
  STEWARD_MODEL_REVIEW: z.string().optional(),
  STEWARD_MODEL_STRUCTURED_OUTPUT: z.enum(['json_schema', 'json_object', 'prompt']).default('json_schema'),
  STEWARD_MODEL_RECORD_TO: z.string().optional(),
  STEWARD_MODEL_TRANSCRIPT: z.string().optional(),
  STEWARD_INCIDENT_BUDGET_USD: z.coerce.number().min(0).default(10),
  STEWARD_MODEL_PRICES: z.string().optional(),
};
type ModelEnv = EnvOf<typeof modelEnv>;

/**
 * Triage is a classification: a fast, accurate model does it well. Reproducing, fixing and
 * reviewing read and change code: they get the thorough one.
 */
const DEFAULT_MODELS: Record<'anthropic' | 'openai', Record<ModelStage, string>> = {
  anthropic: { triage: 'claude-haiku-4-5', reproduce: 'claude-sonnet-4-6', fix: 'claude-sonnet-4-6', review: 'claude-sonnet-4-6' },
  openai: { triage: 'gpt-4.1-mini', reproduce: 'gpt-4.1', fix: 'gpt-4.1', review: 'gpt-4.1' },
};

/** List prices per million tokens when this was written; STEWARD_MODEL_PRICES overrides or adds. */
const DEFAULT_MODEL_PRICES: ModelPrices = {
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 },
  'claude-sonnet-4-6': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
};

const ModelPricesSchema = z.record(z.string(), z.object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) }));

export function modelConfig(e: ModelEnv): ModelConfig {
  const provider = e.STEWARD_MODEL_PROVIDER;
  if (provider === 'replay') return { provider, transcriptPath: path.resolve(e.STEWARD_MODEL_TRANSCRIPT ?? DEMO_TRANSCRIPT_PATH) };
  const apiKey = provider === 'anthropic' ? e.ANTHROPIC_API_KEY : e.OPENAI_API_KEY;
  if (provider !== 'openai-compatible' && !apiKey) {
    throw new ConfigError(`${provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY'} is not set: STEWARD_MODEL_PROVIDER is ${provider}`);
  }
  if (provider === 'openai-compatible' && !e.STEWARD_MODEL_BASE_URL) {
    throw new ConfigError('STEWARD_MODEL_BASE_URL is not set: an openai-compatible provider (vLLM, Ollama, LM Studio) is reached by its URL');
  }
  const defaults = provider === 'openai-compatible' ? null : DEFAULT_MODELS[provider];
  const pick = (stage: ModelStage, specific: string | undefined): string => {
    const model = specific ?? e.STEWARD_MODEL ?? defaults?.[stage];
    if (!model) throw new ConfigError(`STEWARD_MODEL is not set: an openai-compatible provider has no default model (or set STEWARD_MODEL_${stage.toUpperCase()})`);
    return model;
  };
  return {
    provider,
    apiKey: apiKey ?? null,
    baseUrl: e.STEWARD_MODEL_BASE_URL ?? null,
    structuredOutput: e.STEWARD_MODEL_STRUCTURED_OUTPUT,
    recordTo: e.STEWARD_MODEL_RECORD_TO ? path.resolve(e.STEWARD_MODEL_RECORD_TO) : null,
    models: {
      triage: pick('triage', e.STEWARD_MODEL_TRIAGE),
      reproduce: pick('reproduce', e.STEWARD_MODEL_REPRODUCE),
      fix: pick('fix', e.STEWARD_MODEL_FIX),
      review: pick('review', e.STEWARD_MODEL_REVIEW),
    },
  };
}

export function modelPrices(raw: string | undefined): ModelPrices {
  if (!raw) return DEFAULT_MODEL_PRICES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`STEWARD_MODEL_PRICES is not JSON: ${(error as Error).message}`);
  }
  const parsed = ModelPricesSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`STEWARD_MODEL_PRICES is invalid: ${describeIssues(parsed.error)}`);
  return { ...DEFAULT_MODEL_PRICES, ...parsed.data };
}
