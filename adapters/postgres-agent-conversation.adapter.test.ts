import type { AgentConversationPort } from '../ports/agent-conversation.port';
import { createTestDatabase } from '../test/support/database';
import { InMemoryAgentConversations } from '../test/fakes/in-memory-agent-conversations';
import { PostgresAgentConversations } from './postgres-agent-conversation.adapter';

// The fake is held to the same behaviour as the table it stands in for.
describe.each([
  ['Postgres', async () => {
    const database = await createTestDatabase();
    return { store: new PostgresAgentConversations(database.pool) as AgentConversationPort, drop: () => database.drop() };
  }],
  ['in memory (test fake)', async () => ({ store: new InMemoryAgentConversations() as AgentConversationPort, drop: async () => undefined })],
])('agent conversations: %s', (_name, open) => {
  let store: AgentConversationPort;
  let drop: () => Promise<void>;
  beforeAll(async () => ({ store, drop } = await open()));
  afterAll(() => drop());

  it('loads an attempt\'s messages in order, apart from other attempts and incidents', async () => {
    const key = { incidentId: 'inc-conv-1', attempt: 1 };
    await store.append(key, { seq: 1, message: { role: 'assistant', text: 'reading', toolCalls: [{ id: 't1', name: 'read_file', input: { path: 'a.js' } }] }, workspaceDiff: null });
    await store.append(key, { seq: 0, message: { role: 'user', content: 'fix it' }, workspaceDiff: null });
    await store.append(key, { seq: 2, message: { role: 'tool_results', results: [{ toolCallId: 't1', content: '1 x', isError: false }] }, workspaceDiff: 'diff --git a/a.js b/a.js\n' });
    await store.append({ incidentId: 'inc-conv-1', attempt: 2 }, { seq: 0, message: { role: 'user', content: 'attempt 2' }, workspaceDiff: null });
    await store.append({ incidentId: 'inc-conv-2', attempt: 1 }, { seq: 0, message: { role: 'user', content: 'other incident' }, workspaceDiff: null });

    const loaded = await store.load(key);
    expect(loaded.map((m) => m.seq)).toEqual([0, 1, 2]);
    expect(loaded[1]!.message).toEqual({ role: 'assistant', text: 'reading', toolCalls: [{ id: 't1', name: 'read_file', input: { path: 'a.js' } }] });
    expect(loaded[2]!.workspaceDiff).toBe('diff --git a/a.js b/a.js\n');
    expect(await store.load({ incidentId: 'inc-conv-1', attempt: 3 })).toEqual([]);
  });

  it('keeps the first message stored at a position and answers it to a second writer', async () => {
    const key = { incidentId: 'inc-conv-3', attempt: 1 };
    const first = await store.append(key, { seq: 1, message: { role: 'assistant', text: 'paid for', toolCalls: [] }, workspaceDiff: null });
    const second = await store.append(key, { seq: 1, message: { role: 'assistant', text: 'asked again', toolCalls: [] }, workspaceDiff: null });
    expect(first.message).toEqual({ role: 'assistant', text: 'paid for', toolCalls: [] });
    expect(second.message).toEqual({ role: 'assistant', text: 'paid for', toolCalls: [] });
    expect(await store.load(key)).toHaveLength(1);
  });
});
