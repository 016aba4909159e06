import type { Pool } from 'pg';
import type { AgentConversationPort, ConversationKey, StoredMessage } from '../ports/agent-conversation.port';
import type { ConversationMessage } from '../ports/model.port';

/** AgentConversationPort on the `agent_messages` table; a lost connection fails the call, so Temporal retries the activity. */
export class PostgresAgentConversations implements AgentConversationPort {
  constructor(private readonly pool: Pool) {}

  async load(key: ConversationKey): Promise<StoredMessage[]> {
    const { rows } = await this.pool.query<{ seq: number; message: ConversationMessage; workspace_diff: string | null }>(
      'SELECT seq, message, workspace_diff FROM agent_messages WHERE incident_id = $1 AND attempt = $2 ORDER BY seq',
      [key.incidentId, key.attempt],
    );
    return rows.map((row) => ({ seq: row.seq, message: row.message, workspaceDiff: row.workspace_diff }));
  }

  async append(key: ConversationKey, entry: StoredMessage): Promise<StoredMessage> {
    // Insert-or-read in one statement: two workers racing on the same turn agree on one message.
    const { rows } = await this.pool.query<{ seq: number; message: ConversationMessage; workspace_diff: string | null }>(
      `WITH inserted AS (
         INSERT INTO agent_messages (incident_id, attempt, seq, message, workspace_diff) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (incident_id, attempt, seq) DO NOTHING
         RETURNING seq, message, workspace_diff
       )
       SELECT seq, message, workspace_diff FROM inserted
       UNION ALL
       SELECT seq, message, workspace_diff FROM agent_messages WHERE incident_id = $1 AND attempt = $2 AND seq = $3 AND NOT EXISTS (SELECT 1 FROM inserted)`,
      [key.incidentId, key.attempt, entry.seq, JSON.stringify(entry.message), entry.workspaceDiff],
    );
    const row = rows[0]!;
    return { seq: row.seq, message: row.message, workspaceDiff: row.workspace_diff };
  }
}
