import { z } from 'zod';
import { ConfigError } from './env';
import { modelPrices, type ModelPrices } from './model.config';
import { EVAL_RECORDINGS_DIR } from './paths';

/**
 * Where `steward eval run` gets its answers: the recordings (no --model), or the provider and model
 * that --model names (`anthropic:claude-haiku-4-5`, `openai:gpt-4.1-mini`, `openai-compatible:<model>`),
 * with the key and base URL the workers read.
 */
export type EvalModelSettings =
  | { kind: 'replay'; recordingsDir: string }
  | {
      kind: 'live';
      provider: 'anthropic' | 'openai' | 'openai-compatible';
      model: string;
      apiKey: string | null;
      baseUrl: string | null;
      structuredOutput: 'json_schema' | 'json_object' | 'prompt';
      /** --record: each case's answers are written to recordingsDir for later replay. */
      record: boolean;
      recordingsDir: string;
      prices: ModelPrices;
    };

const EvalEnv = z.object({
  ANTHROPIC_API_KEY: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  STEWARD_MODEL_BASE_URL: z.string().url().optional(),
  STEWARD_MODEL_STRUCTURED_OUTPUT: z.enum(['json_schema', 'json_object', 'prompt']).default('json_schema'),
  STEWARD_MODEL_PRICES: z.string().optional(),
  STEWARD_EVAL_RECORDINGS: z.string().optional(),
});

const PROVIDERS = ['anthropic', 'openai', 'openai-compatible'] as const;

export function evalModelSettings(spec: string | null, options: { record: boolean }, env: NodeJS.ProcessEnv): EvalModelSettings {
  const parsed = EvalEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')} is invalid: ${issue.message}`);
  }
  const e = parsed.data;
  const recordingsDir = e.STEWARD_EVAL_RECORDINGS ?? EVAL_RECORDINGS_DIR;
  if (spec === null) {
    if (options.record) throw new ConfigError('--record needs --model <provider:model>: only a live model has answers to record');
    return { kind: 'replay', recordingsDir };
  }
  const colon = spec.indexOf(':');
  const provider = spec.slice(0, colon) as (typeof PROVIDERS)[number];
  const model = spec.slice(colon + 1);
  if (colon < 1 || !PROVIDERS.includes(provider) || model === '') throw new ConfigError(`--model ${spec}: expected <provider:model> with provider one of ${PROVIDERS.join(', ')}`);
  const apiKey = provider === 'anthropic' ? e.ANTHROPIC_API_KEY : e.OPENAI_API_KEY;
  if (provider !== 'openai-compatible' && !apiKey) throw new ConfigError(`${provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY'} is not set: --model ${spec} is a live ${provider} model`);
  if (provider === 'openai-compatible' && !e.STEWARD_MODEL_BASE_URL) throw new ConfigError(`STEWARD_MODEL_BASE_URL is not set: --model ${spec} is reached by its URL`);
  return {
    kind: 'live',
    provider,
    model,
    apiKey: apiKey ?? null,
    baseUrl: e.STEWARD_MODEL_BASE_URL ?? null,
    structuredOutput: e.STEWARD_MODEL_STRUCTURED_OUTPUT,
    record: options.record,
    recordingsDir,
    prices: modelPrices(e.STEWARD_MODEL_PRICES),
  };
}
