import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ModelPort, ModelResponse } from '../../ports/model.port';

/** Re-asks after the first answer: enough for a model to fix a slip, few enough to bound the cost of one that cannot. */
const DEFAULT_MAX_RE_ASKS = 2;

export interface StructuredCall<T> {
  model: ModelPort;
  incidentId: string;
  step: string;
  system: string;
  prompt: string;
  schemaName: string;
  schema: z.ZodType<T>;
  /** How often an answer that is not JSON or breaks the schema is sent back to the model with what is wrong (default 2). */
  maxReAsks?: number;
}

type Usage = { inputTokens: number; outputTokens: number };

/** Why one answer was refused: `failure` is for the operator, `feedback` is what the model is shown on a re-ask. */
interface RefusedAnswer {
  step: string;
  text: string;
  failure: string;
  feedback: string;
}

/**
 * Asks the model for one JSON object and validates it. An answer that is not JSON or breaks the
 * schema is shown back to the model with what is wrong, up to `maxReAsks` times; after that the
 * step fails as ModelOutputInvalid, naming the step and the issues of the last answer.
 */
export async function generateStructured<T>(call: StructuredCall<T>): Promise<{ value: T; usage: Usage }> {
  const maxReAsks = call.maxReAsks ?? DEFAULT_MAX_RE_ASKS;
  if (!Number.isInteger(maxReAsks) || maxReAsks < 0) throw new RangeError(`Step ${call.step}: maxReAsks must be a whole number of at least 0, not ${maxReAsks}`);
  const responseFormat = { name: call.schemaName, jsonSchema: z.toJSONSchema(call.schema, { io: 'input' }) as Record<string, unknown> };
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const refused: RefusedAnswer[] = [];

  for (let reAsk = 0; reAsk <= maxReAsks; reAsk += 1) {
    const previous = refused.at(-1);
    // Named apart from the first answer, so that a replay transcript can record each re-ask.
    const step = previous ? `${call.step}.retry-${reAsk}` : call.step;
    let response: ModelResponse;
    try {
      response = await call.model.complete({
        incidentId: call.incidentId,
        step,
        system: call.system,
        prompt: previous ? reAskPrompt(call, previous) : call.prompt,
        responseFormat,
      });
    } catch (error) {
      // A transcript recorded without re-asks cannot answer one: the step failed because of the
      // invalid answer, so that is what it reports. Any other error (network, rejection) is the failure.
      if (previous && error instanceof ApplicationFailure && error.type === ERROR_TYPES.modelRecordingMissing) {
        throw invalidOutput(call, refused, `; the model could not be re-asked: ${error.message}`);
      }
      throw error;
    }
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;

    const checked = checkAnswer(response.text, call);
    if (checked.ok) return { value: checked.value, usage };
    refused.push({ step, text: response.text, ...checked.refusal });
  }
  throw invalidOutput(call, refused, refused.length > 1 ? `; asked ${refused.length} times (${refused.map((r) => r.step).join(', ')})` : '');
}

function checkAnswer<T>(text: string, call: StructuredCall<T>): { ok: true; value: T } | { ok: false; refusal: Pick<RefusedAnswer, 'failure' | 'feedback'> } {
  let json: unknown;
  try {
    json = JSON.parse(extractJson(text));
  } catch (error) {
    const reason = (error as Error).message;
    return { ok: false, refusal: { failure: `the model did not return JSON (${reason})`, feedback: `It is not valid JSON: ${reason}` } };
  }
  const parsed = call.schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return { ok: false, refusal: { failure: `the model's ${call.schemaName} is invalid: ${issues}`, feedback: `It does not fit the ${call.schemaName} schema: ${issues}` } };
}

/**
 * The original prompt, then the refused answer and why it was refused. Both are fenced: the answer
 * may echo injected production text, and parse errors and issue paths quote pieces of the answer.
 */
function reAskPrompt<T>(call: StructuredCall<T>, previous: RefusedAnswer): string {
  return [
    call.prompt,
    'Your previous answer was refused:',
    fenceUntrusted('previous-answer', previous.text),
    'What is wrong with it:',
    fenceUntrusted('validation-error', previous.feedback),
    `Answer again with one JSON object that fits the ${call.schemaName} schema, and nothing else.`,
  ].join('\n\n');
}

function invalidOutput<T>(call: StructuredCall<T>, refused: RefusedAnswer[], note: string): ApplicationFailure {
  const last = refused.at(-1)!;
  return stewardFailure(ERROR_TYPES.modelOutputInvalid, `Step ${call.step}: ${last.failure}${note}`, {
    answers: refused.map((r) => ({ step: r.step, failure: r.failure, text: r.text.slice(0, 2_000) })),
  });
}

/** Models often wrap JSON in a fenced block; take the object inside. */
function extractJson(text: string): string {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  return (fenced ? fenced[1]! : text).trim();
}

/**
 * Production text (alert messages, logs) is data, never instructions: it enters prompts fenced
 * and labelled, with the fence made unforgeable by stripping it from the data.
 */
export function fenceUntrusted(label: string, text: string): string {
  // Until nothing changes: one pass would turn `</unt</untrusted>rusted>` into a working closing tag.
  let cleaned = text;
  for (let previous = ''; previous !== cleaned; ) {
    previous = cleaned;
    cleaned = cleaned.replace(/<\/?untrusted[^>]*>/gi, '');
  }
  return `<untrusted source="${label}">\n${cleaned}\n</untrusted>`;
}
