import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { TRIAGE_SYSTEM_PROMPT } from '../activities/triage/triage.prompt';
import type { DecisionRecord, FixAttemptRecord, IncidentLedgerReaderPort, LedgerEvent, LedgerIncident, ModelUsageEntry, MonitorChangeRecord } from '../ports/incident-ledger.port';
import { InMemoryAgentConversations } from '../test/fakes/in-memory-agent-conversations';
import { exportRun, type RunExport, type RunExportReaders } from './export-run.use-case';

/**
 * The export rendered over histories recorded from real runs (test/histories), with no server: the
 * histories hold their payloads inline, and the ledger and conversations are in memory, holding
 * only what each test puts there, so that what the export says it lacks is what it really lacks.
 */

const HISTORIES = path.join(__dirname, '..', 'test', 'histories');

/** The recorded JSON, read apart from the code under test: each activity's input and result by name, in order. */
function recordedCalls(file: string): { name: string; input: unknown; result: unknown }[] {
  type RecordedPayloads = { payloads?: { data?: string }[] };
  type RecordedEvent = {
    eventId: string;
    activityTaskScheduledEventAttributes?: { activityType: { name: string }; input?: RecordedPayloads };
    activityTaskCompletedEventAttributes?: { scheduledEventId: string; result?: RecordedPayloads };
  };
  const json = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: RecordedEvent[] };
  const value = (payload: { data?: string } | undefined) => (payload?.data ? JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) : null);
  const scheduled = new Map<string, { name: string; input: unknown; result: unknown }>();
  const calls: { name: string; input: unknown; result: unknown }[] = [];
  for (const event of json.events) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) {
      const call = { name: s.activityType.name, input: value(s.input?.payloads?.[0]), result: null };
      scheduled.set(event.eventId, call);
      calls.push(call);
    }
    const c = event.activityTaskCompletedEventAttributes;
    if (c) scheduled.get(c.scheduledEventId)!.result = value(c.result?.payloads?.[0]);
  }
  return calls;
}

/** The ledger read back, in memory: whatever each test gives it, and nothing else. */
class InMemoryLedgerReader implements IncidentLedgerReaderPort {
  constructor(private readonly held: { modelUsage?: ModelUsageEntry[]; events?: LedgerEvent[] } = {}) {}
  async getIncident(): Promise<LedgerIncident | null> {
    return null;
  }
  async listEvents(): Promise<LedgerEvent[]> {
    return this.held.events ?? [];
  }
  async listFixAttempts(): Promise<FixAttemptRecord[]> {
    return [];
  }
  async getDecision(): Promise<DecisionRecord | null> {
    return null;
  }
  async listMonitorChanges(): Promise<MonitorChangeRecord[]> {
    return [];
  }
  async listModelUsage(incidentId: string): Promise<ModelUsageEntry[]> {
    return (this.held.modelUsage ?? []).filter((u) => u.incidentId === incidentId);
  }
}

function readersOver(histories: Record<string, string>, extra: Partial<RunExportReaders> = {}): RunExportReaders {
  return {
    history: {
      fetch: async (workflowId) => (histories[workflowId] ? historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES, histories[workflowId]!), 'utf8'))) : null),
      decode: async (payload) => defaultPayloadConverter.fromPayload(payload),
    },
    ledger: new InMemoryLedgerReader(),
    conversations: new InMemoryAgentConversations(),
    pullRequest: async () => ({ unreadable: 'no code host in this test' }),
    monitor: async (monitorId) => {
      throw new Error(`no monitor platform in this test (monitor ${monitorId})`);
    },
    now: () => new Date('2026-12-03T10:00:00Z'),
    ...extra,
  };
}

const fileOf = (exported: RunExport, file: string): string => {
  const found = exported.files.find((f) => f.path === file);
  if (!found) throw new Error(`no ${file} in the export; it holds ${exported.files.map((f) => f.path).join(', ')}`);
  return found.content;
};

describe('exportRun over recorded histories', () => {
  it('renders an incident that opened a PR after a rejected attempt, from its history alone, and says what it lacks', async () => {
    const incidentId = 'incident-4401001-cycle-47d2e7fd';
    const calls = recordedCalls('pr-opened-after-a-rejected-attempt.json');
    const conversations = new InMemoryAgentConversations();
    await conversations.append({ incidentId, attempt: 2 }, { seq: 0, message: { role: 'user', content: 'Fix the TypeError in discountCents.' }, workspaceDiff: null });
    await conversations.append({ incidentId, attempt: 2 }, { seq: 1, message: { role: 'assistant', text: 'Reading it.', toolCalls: [{ id: 'call-1', name: 'read_file', input: { path: 'src/pricing.js' } }] }, workspaceDiff: null });
    await conversations.append({ incidentId, attempt: 2 }, { seq: 2, message: { role: 'tool_results', results: [{ toolCallId: 'call-1', content: 'function discountCents() {}', isError: false }] }, workspaceDiff: '' });
    const triageCall: ModelUsageEntry = {
      incidentId,
      step: 'triage',
      provider: 'replay',
      model: 'demo-transcript',
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      recordedAt: '2026-12-02T21:23:00.000Z',
      exchange: { system: TRIAGE_SYSTEM_PROMPT, prompt: 'Monitor 4401001 "checkout-service: unhandled errors"', answer: '{"verdict":"real"}' },
    };
    const reviewCall: ModelUsageEntry = { ...triageCall, step: 'review.attempt-2', exchange: null };

    const exported = await exportRun(readersOver({ [incidentId]: 'pr-opened-after-a-rejected-attempt.json' }, { conversations, ledger: new InMemoryLedgerReader({ modelUsage: [triageCall, reviewCall] }) }), incidentId);

    expect(exported.kind).toBe('incident');
    const paths = exported.files.map((f) => f.path);
    expect(paths[0]).toBe('README.md');
    expect(paths).toEqual(expect.arrayContaining(['timeline.md', 'alert.json', 'triage/input.json', 'triage/answer.json', 'triage/prompt.md', 'reproduction/README.md', 'attempts/1/diff.patch', 'attempts/2/diff.patch', 'attempts/2/self-review.md', 'pull-request.md', 'cost.md', 'history.json']));
    expect(new Set(paths).size).toBe(paths.length);

    // Each file holds what the run held, as read from the recorded JSON independently.
    const triage = calls.find((c) => c.name === 'triageAlert')!;
    expect(JSON.parse(fileOf(exported, 'triage/answer.json'))).toEqual(triage.result);
    expect(JSON.parse(fileOf(exported, 'alert.json'))).toEqual((triage.input as { alert: unknown }).alert);
    const verifications = calls.filter((c) => c.name === 'verifyFixAttempt').map((c) => c.result as { diff: string; runs: { phase: string }[] });
    expect(fileOf(exported, 'attempts/1/diff.patch')).toBe(`${verifications[0]!.diff}\n`.replace(/\n\n$/, '\n'));
    expect(paths.filter((p) => p.startsWith('attempts/2/verification/'))).toHaveLength(verifications[1]!.runs.length);
    expect(fileOf(exported, 'attempts/1/README.md')).toContain('discount rounds to the nearest cent');
    const reproduction = (calls.find((c) => c.name === 'reproduceIncident')!.result as { reproduction: { testPath: string; testContent: string } }).reproduction;
    expect(fileOf(exported, `reproduction/test/${reproduction.testPath}`)).toBe(reproduction.testContent.endsWith('\n') ? reproduction.testContent : `${reproduction.testContent}\n`);
    const timeline = fileOf(exported, 'timeline.md');
    expect(timeline.match(/ activity \S+ scheduled/g)).toHaveLength(calls.length);
    expect(timeline).toContain('signal alertDelivered: Triggered');

    // The turns the conversation store holds, one file each; the prompt the ledger kept.
    expect(fileOf(exported, 'attempts/2/turns/001-turn-1-model.md')).toContain('"path": "src/pricing.js"');
    expect(fileOf(exported, 'attempts/2/turns/002-turn-1-tools.md')).toContain('function discountCents() {}');
    expect(fileOf(exported, 'triage/prompt.md')).toContain(TRIAGE_SYSTEM_PROMPT.split('\n')[0]!);

    // Without a code host to read, the PR body is rendered from the recorded request, and labelled so.
    const opened = calls.find((c) => c.name === 'openPullRequest')!;
    expect(fileOf(exported, 'pull-request.md')).toContain("rendered at export time from the recorded request");
    expect(fileOf(exported, 'pull-request.md')).toContain((opened.input as { content: { fixSummary: string } }).content.fixSummary);

    // What it lacks, it says.
    const readme = fileOf(exported, 'README.md');
    expect(readme).toContain('ended **pr_opened**');
    expect(readme).toContain('the conversation store holds no messages for attempt 1');
    expect(readme).toContain('attempts/2/self-review-prompt.md: the prompts of 1 of 1 model calls');
    expect(readme).toContain('the ledger holds no row for this incident');
    expect(readme).toContain('monitor 4401001 was not read: no monitor platform in this test');
  });

  it('renders a deploy watch with the live test at each poll, and names the child incident it could not read', async () => {
    const watchId = 'deploy-checkout-service-4de00ec4c4cb86191b62fe96924a3bbf12de49a0';
    const calls = recordedCalls('deploy-watch-fixed-forward.json');
    const exported = await exportRun(readersOver({ [watchId]: 'deploy-watch-fixed-forward.json' }), watchId);

    expect(exported.kind).toBe('deploy-watch');
    const polls = calls.filter((c) => c.name === 'pollWatchTest').map((c) => c.result as { pollIndex: number; top: { signature: string; log10Evidence: number }[] });
    const pollFiles = exported.files.filter((f) => /^polls\/\d{3}\.md$/.test(f.path));
    expect(pollFiles).toHaveLength(polls.length);
    for (const poll of polls) {
      const file = fileOf(exported, `polls/${String(poll.pollIndex).padStart(3, '0')}.md`);
      for (const top of poll.top) expect(file).toContain(`| \`${top.signature}\` |`);
      for (const top of poll.top) expect(file).toContain(top.log10Evidence.toFixed(3));
    }
    expect(fileOf(exported, `polls/${String(polls.at(-1)!.pollIndex).padStart(3, '0')}.md`)).toContain('**Flagged at this poll:**');
    expect(JSON.parse(fileOf(exported, 'triage/answer.json'))).toEqual(calls.find((c) => c.name === 'triageDeploy')!.result);
    const readme = fileOf(exported, 'README.md');
    expect(readme).toContain('verdict **caused**, fixing_forward');
    expect(readme).toMatch(/incident\/: the child incident incident-deploy:checkout-service-\S+ was not exported: its workflow history is not in this namespace/);
  });

  it('fails with RunNotFound for a workflow the namespace does not hold', async () => {
    await expect(exportRun(readersOver({}), 'incident-nope')).rejects.toMatchObject({ type: 'RunNotFound' });
  });
});
