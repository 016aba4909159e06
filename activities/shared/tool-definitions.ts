import { z } from 'zod';
import type { ToolDefinition } from '../../ports/model.port';

/**
 * A set of zod tool schemas as offered to a model provider: each tool's name, the description its
 * schema carries, and the JSON Schema of its input. One function for every agent (fix, monitor
 * generation, QA mission), so that what a provider sees of a tool is built the same way for all.
 */
export function toolDefinitionsOf(schemas: Readonly<Record<string, z.ZodType>>): ToolDefinition[] {
  return Object.entries(schemas).map(([name, schema]) => {
    const { description, ...inputSchema } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown> & { description?: string };
    return { name, description: description ?? name, inputSchema };
  });
}
