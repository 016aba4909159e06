import type { AgentConversationPort, ConversationKey, StoredMessage } from '../../ports/agent-conversation.port';

/** AgentConversationPort in memory, first-write-wins by (incident, attempt, seq) like the table; values are copied in and out. */
export class InMemoryAgentConversations implements AgentConversationPort {
  private readonly byKey = new Map<string, Map<number, StoredMessage>>();

  async load(key: ConversationKey): Promise<StoredMessage[]> {
    return [...(this.byKey.get(keyOf(key))?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((m) => structuredClone(m));
  }

  async append(key: ConversationKey, entry: StoredMessage): Promise<StoredMessage> {
    const messages = this.byKey.get(keyOf(key)) ?? new Map<number, StoredMessage>();
    this.byKey.set(keyOf(key), messages);
    if (!messages.has(entry.seq)) messages.set(entry.seq, structuredClone(entry));
    return structuredClone(messages.get(entry.seq)!);
  }
}

function keyOf(key: ConversationKey): string {
  return `${key.incidentId}#${key.attempt}`;
}
