import type { z } from 'zod';

export interface ValidationIssue {
  /** Dotted path to the field, `(root)` for the value itself. */
  path: string;
  message: string;
}

/** A zod error as one issue per field, for JSON error bodies. */
export function validationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

/** A zod error as one line a person reads: `field.path: message; other: message`. */
export function describeIssues(error: z.ZodError): string {
  return validationIssues(error)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}
