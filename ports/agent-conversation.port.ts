import type { ConversationMessage } from './model.port';

/** One fix attempt's conversation: attempts start afresh, with what was learned passed in the first message. */
export interface ConversationKey {
  incidentId: string;
  attempt: number;
}

export interface StoredMessage {
  seq: number;
  message: ConversationMessage;
  /** The workspace's diff against the revision after this message's tools ran; null on other messages. */
  workspaceDiff: string | null;
}

/**
 * Where the fix agent's conversations are kept, so that the workflow passes only (incident,
 * attempt, turn) and each turn's activity loads what it needs. Appends are keyed by `seq` and
 * first-write-wins: a retried activity that stores the same position again keeps the first
 * message, which is the one the model was paid for.
 */
export interface AgentConversationPort {
  load(key: ConversationKey): Promise<StoredMessage[]>;
  /** Stores the message at `seq` unless one is there; answers the message that is stored there now. */
  append(key: ConversationKey, entry: StoredMessage): Promise<StoredMessage>;
}
