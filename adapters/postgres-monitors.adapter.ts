import type { Pool } from 'pg';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { withStewardLink, type StewardPrLink } from '../domain/monitor-annotation';
import { evaluationWindowOf } from '../domain/monitor-window';
import {
  STEWARD_MONITOR_TAG,
  type Monitor,
  type MonitorAuthoringPort,
  type MonitorDefinition,
  type MonitorListFilter,
  type MonitorsPort,
  type MonitorTuningChange,
  type MonitorValidation,
} from '../ports/monitors.port';
import { isEvaluatedLocally, validateMonitorLocally } from './local-monitor-validator';

interface MonitorRow {
  id: string;
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string[];
  critical_threshold: number | null;
  evaluation_window: string | null;
  created_by_steward: boolean;
}

const MONITOR_COLUMNS = 'id, name, type, query, message, tags, critical_threshold, evaluation_window, created_by_steward';

function toMonitor(row: MonitorRow): Monitor {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    query: row.query,
    message: row.message,
    tags: row.tags,
    criticalThreshold: row.critical_threshold,
    evaluationWindow: row.evaluation_window,
    createdBySteward: row.created_by_steward,
    // Read from the definition each time, so a monitor whose query is edited is labelled by what it now says.
    evaluatedLocally: isEvaluatedLocally(row),
  };
}

function monitorNotFound(monitorId: string): Error {
  return stewardFailure(ERROR_TYPES.monitorNotFound, `monitor ${monitorId} does not exist or was deleted`, { monitorId });
}

/**
 * The embedded monitors store, standing in for Datadog when it is not configured. It keeps monitors
 * of every type; only log alerts that count are evaluated locally, and each monitor says whether
 * it is (`evaluatedLocally`).
 */
export class PostgresMonitors implements MonitorsPort, MonitorAuthoringPort {
  constructor(private readonly pool: Pool) {}

  async validate(definition: MonitorDefinition): Promise<MonitorValidation> {
    return validateMonitorLocally(definition);
  }

  /** Creates the monitor with the created_by:steward tag, after the checks validate() makes; a definition they refuse fails with MonitorDefinitionInvalid. */
  async create(definition: MonitorDefinition): Promise<Monitor> {
    const validation = validateMonitorLocally(definition);
    if (!validation.valid) {
      throw stewardFailure(ERROR_TYPES.monitorDefinitionInvalid, `the monitor ${JSON.stringify(definition.name)} was refused: ${validation.errors.join('; ')}`, {
        errors: validation.errors,
      });
    }
    // Numeric, as Datadog's ids are: the local evaluator's webhook payloads carry it where Datadog's carry theirs.
    const { rows } = await this.pool.query<MonitorRow>(
      `INSERT INTO monitors (id, name, type, query, message, tags, critical_threshold, evaluation_window, warning_threshold, priority, created_by_steward)
       VALUES (nextval('local_monitor_ids')::text, $1, $2, $3, $4, $5, $6, $7, $8, $9, true)
       RETURNING ${MONITOR_COLUMNS}`,
      [
        definition.name,
        definition.type,
        definition.query,
        definition.message,
        [...new Set([...definition.tags, STEWARD_MONITOR_TAG])],
        definition.criticalThreshold,
        evaluationWindowOf(definition.query),
        definition.warningThreshold ?? null,
        definition.priority ?? null,
      ],
    );
    return toMonitor(rows[0]!);
  }

  async list(filter: MonitorListFilter = {}): Promise<Monitor[]> {
    const { rows } = await this.pool.query<MonitorRow>(
      `SELECT ${MONITOR_COLUMNS} FROM monitors
        WHERE deleted_at IS NULL AND ($1::text IS NULL OR $1 = ANY (tags)) AND ($2::boolean IS NULL OR created_by_steward = $2)
        ORDER BY created_at, id`,
      [filter.tag ?? null, filter.createdBySteward ?? null],
    );
    return rows.map(toMonitor);
  }

  async get(monitorId: string): Promise<Monitor> {
    const { rows } = await this.pool.query<MonitorRow>(
      `SELECT ${MONITOR_COLUMNS} FROM monitors WHERE id = $1 AND deleted_at IS NULL`,
      [monitorId],
    );
    if (!rows[0]) throw monitorNotFound(monitorId);
    return toMonitor(rows[0]);
  }

  async appendPrLink(monitorId: string, link: StewardPrLink): Promise<{ changed: boolean; monitor: Monitor }> {
    // Read-modify-write of the description: the row lock makes concurrent appends queue up, so none
    // overwrites another's link and a repeated link is seen as already present.
    const client = await this.pool.connect();
    let brokenConnection: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<MonitorRow>(
        `SELECT ${MONITOR_COLUMNS} FROM monitors WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
        [monitorId],
      );
      const current = rows[0];
      if (!current) throw monitorNotFound(monitorId);
      const { description, changed } = withStewardLink(current.message, link);
      if (changed) {
        await client.query('UPDATE monitors SET message = $2, updated_at = now() WHERE id = $1', [monitorId, description]);
      }
      await client.query('COMMIT');
      return { changed, monitor: toMonitor({ ...current, message: description }) };
    } catch (error) {
      // The original error is the one to report; a connection that cannot even roll back is
      // discarded instead of going back to the pool.
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        brokenConnection = rollbackError;
      });
      throw error;
    } finally {
      client.release(brokenConnection);
    }
  }

  async tune(monitorId: string, change: MonitorTuningChange): Promise<Monitor> {
    const { rows } = await this.pool.query<MonitorRow>(
      `UPDATE monitors SET
         critical_threshold = coalesce($2, critical_threshold),
         evaluation_window = coalesce($3, evaluation_window),
         updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL
       RETURNING ${MONITOR_COLUMNS}`,
      [monitorId, change.criticalThreshold, change.evaluationWindow],
    );
    if (!rows[0]) throw monitorNotFound(monitorId);
    return toMonitor(rows[0]);
  }

  async delete(monitorId: string): Promise<void> {
    // Deleting an already deleted Steward monitor succeeds, so a retried delete activity does not fail.
    const deleted = await this.pool.query(
      `UPDATE monitors SET deleted_at = coalesce(deleted_at, now()), updated_at = now()
       WHERE id = $1 AND created_by_steward`,
      [monitorId],
    );
    if (deleted.rowCount === 1) return;
    const { rows } = await this.pool.query('SELECT 1 FROM monitors WHERE id = $1 AND deleted_at IS NULL', [monitorId]);
    if (rows.length === 0) throw monitorNotFound(monitorId);
    throw stewardFailure(ERROR_TYPES.monitorNotOwned, `monitor ${monitorId} was not created by Steward, so Steward may not delete it`, {
      monitorId,
    });
  }
}

/**
 * Seeds a monitor idempotently (the demo runs it on every start). An existing monitor keeps its
 * description, which holds Steward's PR links, and its tuning and ownership; only its definition
 * (name, type, query, tags) is refreshed.
 */
export async function upsertMonitor(
  pool: Pool,
  monitor: Omit<Monitor, 'createdBySteward'> & { createdBySteward?: boolean },
): Promise<Monitor> {
  const { rows } = await pool.query<MonitorRow>(
    `INSERT INTO monitors (id, name, type, query, message, tags, critical_threshold, evaluation_window, created_by_steward)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET
       name = EXCLUDED.name, type = EXCLUDED.type, query = EXCLUDED.query, tags = EXCLUDED.tags, updated_at = now()
     RETURNING ${MONITOR_COLUMNS}`,
    [
      monitor.id,
      monitor.name,
      monitor.type,
      monitor.query,
      monitor.message,
      monitor.tags,
      monitor.criticalThreshold,
      monitor.evaluationWindow,
      monitor.createdBySteward ?? monitor.tags.includes(STEWARD_MONITOR_TAG),
    ],
  );
  return toMonitor(rows[0]!);
}
