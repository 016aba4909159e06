import type { Pool, PoolClient } from 'pg';
import { localMonitorWebhookPayload, stepLocalMonitor, type LocalMonitorState, type LocalMonitorStatus, type LocalMonitorTransition } from '../domain/local-monitor';
import type { LocalMonitorEvaluation, LocalMonitorStatePort, LocalMonitorTransitionRecord, RecordedEvaluation } from '../ports/local-monitor-state.port';

interface StateRow {
  state: LocalMonitorState;
  alert_cycle_key: string | null;
  last_tick: Date | null;
}

interface TransitionRow {
  id: string;
  monitor_id: string;
  alert_cycle_key: string;
  transition: LocalMonitorTransition;
  tick: Date;
  payload: Record<string, string>;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

const TRANSITION_COLUMNS = 'id, monitor_id, alert_cycle_key, transition, tick, payload, attempts, last_status, last_error, delivered_at';
/** A failure's text as kept on the row: enough to read why, bounded so a huge error page does not bloat the outbox. */
const MAX_ERROR_CHARS = 2_000;

function toStatus(row: StateRow): LocalMonitorStatus | null {
  return row.last_tick === null ? null : { state: row.state, alertCycleKey: row.alert_cycle_key, lastTick: row.last_tick };
}

function toTransition(row: TransitionRow): LocalMonitorTransitionRecord {
  return {
    id: String(row.id),
    monitorId: row.monitor_id,
    alertCycleKey: row.alert_cycle_key,
    transition: row.transition,
    tick: row.tick,
    payload: row.payload,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

/** The local monitor evaluator's state and transition outbox in Postgres (store/migrations/012_local_monitor_state.sql). */
export class PostgresLocalMonitorState implements LocalMonitorStatePort {
  constructor(private readonly pool: Pool) {}

  async recordEvaluation(monitorId: string, evaluation: LocalMonitorEvaluation): Promise<RecordedEvaluation> {
    return this.inTransaction(async (client) => {
      // The row exists before it is locked, so that two first evaluations of one monitor queue on the same lock.
      await client.query('INSERT INTO local_monitor_states (monitor_id) VALUES ($1) ON CONFLICT (monitor_id) DO NOTHING', [monitorId]);
      const { rows } = await client.query<StateRow>('SELECT state, alert_cycle_key, last_tick FROM local_monitor_states WHERE monitor_id = $1 FOR UPDATE', [monitorId]);
      const step = stepLocalMonitor(toStatus(rows[0]!), evaluation.tick, evaluation.breached);
      if (step.kind === 'already_evaluated') return { outcome: 'already_evaluated' };
      const { status, transition } = step;
      await client.query(
        `UPDATE local_monitor_states SET state = $2, alert_cycle_key = $3, last_tick = $4, last_count = $5, updated_at = now() WHERE monitor_id = $1`,
        [monitorId, status.state, status.alertCycleKey, status.lastTick, evaluation.facts.count],
      );
      if (transition) {
        const payload = localMonitorWebhookPayload({ ...evaluation.facts, ...transition, tick: evaluation.tick });
        await client.query(
          `INSERT INTO local_monitor_transitions (monitor_id, alert_cycle_key, transition, tick, payload)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (monitor_id, alert_cycle_key, transition) DO NOTHING`,
          [monitorId, transition.alertCycleKey, transition.transition, evaluation.tick, JSON.stringify(payload)],
        );
      }
      return { outcome: 'evaluated', state: status.state, alertCycleKey: status.alertCycleKey, transition };
    });
  }

  async status(monitorId: string): Promise<LocalMonitorStatus | null> {
    const { rows } = await this.pool.query<StateRow>('SELECT state, alert_cycle_key, last_tick FROM local_monitor_states WHERE monitor_id = $1', [monitorId]);
    return rows[0] ? toStatus(rows[0]) : null;
  }

  async claimUndelivered(limit: number, leaseMs: number): Promise<LocalMonitorTransitionRecord[]> {
    const { rows } = await this.pool.query<TransitionRow>(
      `UPDATE local_monitor_transitions SET lease_until = clock_timestamp() + $2 * interval '1 millisecond', attempts = attempts + 1
        WHERE id IN (
          SELECT id FROM local_monitor_transitions
           WHERE delivered_at IS NULL AND (lease_until IS NULL OR lease_until < clock_timestamp())
           ORDER BY id LIMIT $1
           FOR UPDATE SKIP LOCKED)
        RETURNING ${TRANSITION_COLUMNS}`,
      [limit, leaseMs],
    );
    // RETURNING has no order; a monitor's transitions must go out as they happened.
    return rows.map(toTransition).sort((a, b) => Number(a.id) - Number(b.id));
  }

  async markDelivered(transitionId: string, status: number): Promise<void> {
    await this.pool.query(
      `UPDATE local_monitor_transitions SET delivered_at = coalesce(delivered_at, now()), lease_until = NULL, last_status = $2, last_error = NULL WHERE id = $1`,
      [transitionId, status],
    );
  }

  async markDeliveryFailed(transitionId: string, failure: { status: number | null; error: string }): Promise<void> {
    await this.pool.query(`UPDATE local_monitor_transitions SET lease_until = NULL, last_status = $2, last_error = $3 WHERE id = $1 AND delivered_at IS NULL`, [
      transitionId,
      failure.status,
      failure.error.slice(0, MAX_ERROR_CHARS),
    ]);
  }

  async transitions(monitorId: string): Promise<LocalMonitorTransitionRecord[]> {
    const { rows } = await this.pool.query<TransitionRow>(`SELECT ${TRANSITION_COLUMNS} FROM local_monitor_transitions WHERE monitor_id = $1 ORDER BY id`, [monitorId]);
    return rows.map(toTransition);
  }

  private async inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let brokenConnection: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // The original error is the one to report; a connection that cannot even roll back is discarded.
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        brokenConnection = rollbackError;
      });
      throw error;
    } finally {
      client.release(brokenConnection);
    }
  }
}
