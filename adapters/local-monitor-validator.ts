import { z } from 'zod';
import { validateLogMonitorQuery } from '../domain/log-query';
import type { MonitorDefinition, MonitorValidation } from '../ports/monitors.port';

/** The only monitor type the embedded default evaluates; any other is kept but labelled not evaluated locally. */
export const LOCALLY_EVALUATED_TYPE = 'log alert';

const Definition = z.object({
  name: z.string().trim().min(1),
  type: z.string().trim().min(1),
  query: z.string().trim().min(1),
  message: z.string(),
  tags: z.array(z.string().min(1)),
  criticalThreshold: z.number().finite().nullable(),
});

/**
 * What Datadog's POST /monitor/validate would say of a definition, as far as the embedded default
 * can tell: a log alert's query is read with domain/log-query and its threshold held to the
 * critical one, as Datadog does; other types are accepted as they are, since nothing here
 * evaluates them. Errors are worded as Datadog's 400 words them.
 */
export function validateMonitorLocally(definition: MonitorDefinition): MonitorValidation {
  const shape = Definition.safeParse(definition);
  if (!shape.success) {
    return { valid: false, errors: shape.error.issues.map((issue) => `The value provided for parameter '${issue.path.join('.')}' is invalid: ${issue.message}`) };
  }
  if (definition.type !== LOCALLY_EVALUATED_TYPE) return { valid: true, evaluatedLocally: false };
  const query = validateLogMonitorQuery(definition.query);
  if (!query.ok) return { valid: false, errors: query.errors };
  const { threshold, evaluable } = query.parsed;
  if (definition.criticalThreshold !== null && definition.criticalThreshold !== threshold) {
    return { valid: false, errors: [`Alert threshold (${definition.criticalThreshold}) does not match that used in the query (${threshold}).`] };
  }
  return { valid: true, evaluatedLocally: evaluable.locally };
}

/** Whether the embedded default evaluates a stored monitor: a log alert whose query it reads and can count. */
export function isEvaluatedLocally(monitor: Pick<MonitorDefinition, 'type' | 'query'>): boolean {
  if (monitor.type !== LOCALLY_EVALUATED_TYPE) return false;
  const query = validateLogMonitorQuery(monitor.query);
  return query.ok && query.parsed.evaluable.locally;
}
