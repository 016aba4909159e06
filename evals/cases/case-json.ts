import type { z } from 'zod';

/**
 * A case as the text its file holds: two-space indented, a trailing newline, and every object's
 * keys in the order its schema declares them (keys the schema does not know after, sorted), so
 * that writing a case twice gives the same bytes and a diff shows only what changed.
 */
export function caseFileText(schema: z.ZodType, value: unknown): string {
  return `${JSON.stringify(ordered(schema, value), null, 2)}\n`;
}

/** The little of a zod schema's definition the ordering reads; zod 4 keeps it under `_zod.def`. */
interface SchemaDefinition {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  discriminator?: string;
}

function definition(schema: z.ZodType | undefined): SchemaDefinition | null {
  return ((schema as unknown as { _zod?: { def?: SchemaDefinition } } | undefined)?._zod?.def ?? null) as SchemaDefinition | null;
}

/** The schema under wrappers that do not change a value's shape: optional, nullable, default, pipe's input. */
function unwrapped(schema: z.ZodType | undefined): SchemaDefinition | null {
  let def = definition(schema);
  for (let depth = 0; def && depth < 20; depth++) {
    if (def.innerType) def = definition(def.innerType);
    else if (def.type === 'pipe' && def.in) def = definition(def.in);
    else break;
  }
  return def;
}

function ordered(schema: z.ZodType | undefined, value: unknown): unknown {
  if (Array.isArray(value)) {
    const def = unwrapped(schema);
    return value.map((item) => ordered(def?.type === 'array' ? def.element : undefined, item));
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const def = objectSchemaFor(unwrapped(schema), record);
  if (def?.type === 'record') {
    return Object.fromEntries(Object.keys(record).sort().map((key) => [key, ordered(def.valueType, record[key])]));
  }
  const shape = def?.shape ?? {};
  const known = Object.keys(shape).filter((key) => key in record);
  const unknown = Object.keys(record)
    .filter((key) => !(key in shape))
    .sort();
  return Object.fromEntries([...known, ...unknown].map((key) => [key, ordered(shape[key], record[key])]));
}

/** For a union, the object option the value belongs to: by its discriminator, else the first whose keys it uses. */
function objectSchemaFor(def: SchemaDefinition | null, value: Record<string, unknown>): SchemaDefinition | null {
  if (!def || def.type !== 'union' || !def.options) return def;
  const options = def.options.map((option) => unwrapped(option)).filter((option): option is SchemaDefinition => option?.type === 'object');
  if (def.discriminator) {
    const tag = value[def.discriminator];
    const byTag = options.find((option) => literalValues(option.shape?.[def.discriminator!]).includes(tag));
    if (byTag) return byTag;
  }
  return options.find((option) => Object.keys(value).every((key) => key in (option.shape ?? {}))) ?? null;
}

function literalValues(schema: z.ZodType | undefined): unknown[] {
  const def = definition(schema) as (SchemaDefinition & { values?: unknown[] }) | null;
  return def?.type === 'literal' ? (def.values ?? []) : [];
}
