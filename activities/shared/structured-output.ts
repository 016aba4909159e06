import { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ModelPort } from '../../ports/model.port';

export interface StructuredCall<T> {
  model: ModelPort;
  incidentId: string;
  step: string;
  system: string;
  prompt: string;
  schemaName: string;
  schema: z.ZodType<T>;
}

/** Asks the model for one JSON object and validates it; output that does not fit fails as ModelOutputInvalid. */
export async function generateStructured<T>(call: StructuredCall<T>): Promise<{ value: T; usage: { inputTokens: number; outputTokens: number } }> {
  const response = await call.model.complete({
    incidentId: call.incidentId,
    step: call.step,
    system: call.system,
    prompt: call.prompt,
    responseFormat: { name: call.schemaName, jsonSchema: z.toJSONSchema(call.schema, { io: 'input' }) as Record<string, unknown> },
  });
  let json: unknown;
  try {
    json = JSON.parse(extractJson(response.text));
  } catch (error) {
    throw stewardFailure(ERROR_TYPES.modelOutputInvalid, `Step ${call.step}: the model did not return JSON (${(error as Error).message})`, {
      text: response.text.slice(0, 2_000),
    });
  }
  const parsed = call.schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw stewardFailure(ERROR_TYPES.modelOutputInvalid, `Step ${call.step}: the model's ${call.schemaName} is invalid: ${issues}`);
  }
  return { value: parsed.data, usage: response.usage };
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
