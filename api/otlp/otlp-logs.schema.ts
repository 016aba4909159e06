import { z } from 'zod';

/**
 * ExportLogsServiceRequest in OTLP's JSON encoding (lowerCamelCase keys, trace and span ids in hex,
 * 64-bit integers as strings or numbers, enums as integers). A protobuf request is decoded into the
 * same form (its types held by the .proto), so both encodings are mapped one way. Unknown keys are
 * dropped, as the spec asks of receivers.
 */

export type AnyValueJson = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValueJson[] };
  kvlistValue?: { values?: KeyValueJson[] };
  bytesValue?: string;
};
export type KeyValueJson = { key: string; value?: AnyValueJson };

// Not z.number().int(): that stops at 2^53, and nanoseconds since the epoch are past it, as JSON numbers often are.
const integer = (message: string) => z.number().refine(Number.isInteger, message);
const Int64 = z.union([z.string().regex(/^-?\d+$/), integer('expected an integer')], 'expected an integer, as a string or a number');
const UnixNano = z.union(
  [z.string().regex(/^\d+$/), integer('expected an integer').refine((n) => n >= 0, 'expected no negative time')],
  'expected nanoseconds since the epoch, as a string or a number',
);
/** Empty is proto3's "not set". */
const hexId = (bytes: number) =>
  z
    .string()
    .regex(new RegExp(`^(?:[0-9a-fA-F]{${bytes * 2}})?$`), `expected ${bytes} bytes in hex (${bytes * 2} characters)`)
    .transform((hex) => hex.toLowerCase());

export const AnyValue: z.ZodType<AnyValueJson> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: Int64.optional(),
    doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
    arrayValue: z.object({ values: z.array(AnyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(KeyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);

export const KeyValue: z.ZodType<KeyValueJson> = z.lazy(() => z.object({ key: z.string(), value: AnyValue.optional() }));

const OtlpLogRecord = z.object({
  timeUnixNano: UnixNano.optional(),
  observedTimeUnixNano: UnixNano.optional(),
  severityNumber: z.number().int().min(0).max(24).optional(),
  severityText: z.string().optional(),
  body: AnyValue.optional(),
  attributes: z.array(KeyValue).optional(),
  traceId: hexId(16).optional(),
  spanId: hexId(8).optional(),
  eventName: z.string().optional(),
});
export type OtlpLogRecord = z.infer<typeof OtlpLogRecord>;

export const ExportLogsServiceRequest = z.object({
  resourceLogs: z
    .array(
      z.object({
        resource: z.object({ attributes: z.array(KeyValue).optional() }).optional(),
        scopeLogs: z.array(z.object({ logRecords: z.array(OtlpLogRecord).optional() })).optional(),
      }),
    )
    .optional(),
});
export type ExportLogsServiceRequest = z.infer<typeof ExportLogsServiceRequest>;
