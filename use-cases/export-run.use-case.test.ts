import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { TRIAGE_SYSTEM_PROMPT } from '../activities/triage/triage.prompt';
import type { DecisionRecord, FixAttemptRecord, IncidentLedgerReaderPort, LedgerEvent, LedgerIncident, ModelUsageEntry, MonitorChangeRecord } from '../ports/incident-ledger.port';
import { renderMorningReport, type MorningReport } from '../domain/nightly-qa/report';
import type { QaMissionRecord, QaNightStart } from '../ports/qa-ledger.port';
import { InMemoryAgentConversations } from '../test/fakes/in-memory-agent-conversations';
import { InMemoryQaLedger } from '../test/fakes/in-memory-qa-ledger';
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
    qaLedger: new InMemoryQaLedger(),
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

/**
 * The QA ledger as the night left it: its own writes (startNight, recordMission, finishNight) read
 * from the recorded history and replayed into the in-memory ledger, so that the ledger holds what
 * the run wrote, up to `upTo` calls when the night is to be seen still running.
 */
async function ledgerOfNight(file: string, upTo = Infinity): Promise<InMemoryQaLedger> {
  const ledger = new InMemoryQaLedger();
  for (const call of recordedCalls(file).slice(0, upTo)) {
    if (call.name === 'startNight') await ledger.startNight(call.input as QaNightStart);
    if (call.name === 'recordMission') await ledger.recordMission(call.input as QaMissionRecord);
    if (call.name === 'finishNight') {
      const finished = call.input as { nightId: string; status: 'done'; costUsd: number; report: MorningReport; finishedAt: string };
      await ledger.finishNight(finished.nightId, finished);
    }
  }
  return ledger;
}

describe('exportRun of a night of QA, over recorded histories', () => {
  const nightId = 'nightly-qa-test-3-2026-12-03';
  const missionWorkflowId = `${nightId}/mission-sanity_coupons`;

  it('writes the night that found a bug and took it to a PR: the report, the plan, the finding with its incident, and the mission with its turns and test', async () => {
    const calls = recordedCalls('nightly-qa-finding-to-pr.json');
    const report = (calls.find((c) => c.name === 'finishNight')!.input as { report: MorningReport }).report;
    const outcome = recordedCalls('qa-mission-finding.json').find((c) => c.name === 'runQaMission')!.result as { findings: { testPath: string; testSource: string }[] };
    const conversations = new InMemoryAgentConversations();
    await conversations.append({ incidentId: missionWorkflowId, attempt: 1 }, { seq: 0, message: { role: 'user', content: 'Sanity-test the coupons feature of checkout-service.' }, workspaceDiff: null });
    await conversations.append({ incidentId: missionWorkflowId, attempt: 1 }, { seq: 1, message: { role: 'assistant', text: 'Reading the coupons.', toolCalls: [{ id: 'call-1', name: 'read_file', input: { path: 'src/coupons.js' } }] }, workspaceDiff: null });
    await conversations.append({ incidentId: missionWorkflowId, attempt: 1 }, { seq: 2, message: { role: 'tool_results', results: [{ toolCallId: 'call-1', content: 'function findCoupon(code) {}', isError: false }] }, workspaceDiff: '' });
    const agentCall: ModelUsageEntry = { incidentId: missionWorkflowId, step: 'qa.mission.turn-1', provider: 'replay', model: 'qa-transcript', inputTokens: 1200, outputTokens: 300, costUsd: 0.0123, recordedAt: '2026-12-04T15:27:20.000Z', exchange: null };

    const exported = await exportRun(
      readersOver(
        { [nightId]: 'nightly-qa-finding-to-pr.json', [missionWorkflowId]: 'qa-mission-finding.json' },
        { qaLedger: await ledgerOfNight('nightly-qa-finding-to-pr.json'), conversations, ledger: new InMemoryLedgerReader({ modelUsage: [agentCall] }) },
      ),
      nightId,
    );

    expect(exported.kind).toBe('night');
    const paths = exported.files.map((f) => f.path);
    expect(paths[0]).toBe('README.md');
    expect(paths).toEqual(expect.arrayContaining(['plan.md', 'findings.md', 'report.json', 'history.json', 'timeline.md', 'missions/sanity-coupons/README.md', 'missions/sanity-coupons/history.json', 'missions/sanity-coupons/cost.md']));
    expect(new Set(paths).size).toBe(paths.length);
    // Only a mission that ran has a folder: the one past the mission limit is in the plan.
    expect(paths.some((p) => p.startsWith('missions/probe-scripts-build.js/'))).toBe(false);

    // The report is the ledger's; the README renders it and says its cost against the budget.
    expect(JSON.parse(fileOf(exported, 'report.json'))).toEqual(report);
    const readme = fileOf(exported, 'README.md');
    expect(readme).toContain(renderMorningReport(report));
    expect(readme).toContain(`| cost | $${report.costUsd.toFixed(2)} of $${report.budgetUsd.toFixed(2)} |`);
    expect(readme).toContain('ended **done**');

    // The plan: every mission recorded with its reason, and what was not run again from last night.
    const plan = fileOf(exported, 'plan.md');
    for (const recorded of calls.filter((c) => c.name === 'recordMission')) expect(plan).toContain((recorded.input as { reason: string }).reason);
    expect(plan).toContain('skipped (mission limit)');
    for (const left of report.notRepeated!) expect(plan).toContain(`\`${left.id}\`: ${left.why}`);

    // The finding: its test, signature, incident (exported on its own) and PR.
    const [finding] = report.findings;
    const findings = fileOf(exported, 'findings.md');
    expect(findings).toContain(`- signature: \`${finding!.signature}\``);
    expect(findings).toContain(`\`steward export ${finding!.incidentId} <dir>\``);
    expect(findings).toContain(`- pull request: ${finding!.pullRequestUrl}`);
    expect(findings).toContain('- dedup: new tonight');

    // The mission: the test it wrote, as written; its turns from the conversation store; its cost from the ledger.
    expect(fileOf(exported, `missions/sanity-coupons/test/${outcome.findings[0]!.testPath}`)).toBe(outcome.findings[0]!.testSource);
    expect(fileOf(exported, 'missions/sanity-coupons/turns/001-turn-1-model.md')).toContain('"path": "src/coupons.js"');
    expect(fileOf(exported, 'missions/sanity-coupons/turns/002-turn-1-tools.md')).toContain('function findCoupon(code) {}');
    expect(fileOf(exported, 'missions/sanity-coupons/cost.md')).toContain('| qa.mission.turn-1 | 1 | replay:qa-transcript | 1200 | 300 | $0.012300 |');
    const mission = fileOf(exported, 'missions/sanity-coupons/README.md');
    expect(mission).toContain('# Mission sanity:coupons: done');
    expect(mission).toContain(`\`${outcome.findings[0]!.testPath}\` (here in \`test/\`)`);
    expect(mission).toContain(`incident \`${finding!.incidentId}\``);
    expect(JSON.parse(fileOf(exported, 'history.json')).events).toHaveLength(JSON.parse(fs.readFileSync(path.join(HISTORIES, 'nightly-qa-finding-to-pr.json'), 'utf8')).events.length);
  });

  it("writes a mission exported by its own id as its night's folder, with the record its night keeps", async () => {
    const outcome = recordedCalls('qa-mission-finding.json').find((c) => c.name === 'runQaMission')!.result as { findings: { testPath: string; testSource: string }[]; commandsRun: string[] };
    const exported = await exportRun(readersOver({ [missionWorkflowId]: 'qa-mission-finding.json' }, { qaLedger: await ledgerOfNight('nightly-qa-finding-to-pr.json') }), missionWorkflowId);

    expect(exported.kind).toBe('qa-mission');
    expect(fileOf(exported, `test/${outcome.findings[0]!.testPath}`)).toBe(outcome.findings[0]!.testSource);
    // The record is the ledger's last: the rewrite after the finding's incident, which names it.
    expect(JSON.parse(fileOf(exported, 'record.json')).findings[0].incidentId).toBe('incident-nightly-qa-qa-6483f30284b30d63_2026-12-03');
    const readme = fileOf(exported, 'README.md');
    expect(readme).toContain('# Mission sanity:coupons: done');
    for (const command of outcome.commandsRun) expect(readme).toContain(`- \`${command}\``);
    expect(readme).toContain('turns/: the conversation store holds no messages for nightly-qa-test-3-2026-12-03/mission-sanity_coupons');
  });

  it('writes the missions of a quiet night whose histories are gone from the ledger, and says so', async () => {
    const quietId = 'nightly-qa-test-1-2026-12-01';
    const report = (recordedCalls('nightly-qa-quiet.json').find((c) => c.name === 'finishNight')!.input as { report: MorningReport }).report;
    const exported = await exportRun(readersOver({ [quietId]: 'nightly-qa-quiet.json' }, { qaLedger: await ledgerOfNight('nightly-qa-quiet.json') }), quietId);

    expect(report.missionsRun.map((m) => m.id)).toEqual(['sanity:coupons', 'probe:scripts/build.js']);
    for (const dir of ['missions/sanity-coupons', 'missions/probe-scripts-build.js']) {
      expect(fileOf(exported, `${dir}/README.md`)).toContain("**Written from the QA ledger:** the mission's own history is gone");
      expect(exported.files.some((f) => f.path === `${dir}/history.json`)).toBe(false);
    }
    expect(JSON.parse(fileOf(exported, 'missions/probe-scripts-build.js/record.json'))).toMatchObject({ missionId: 'probe:scripts/build.js', status: 'done' });
    const readme = fileOf(exported, 'README.md');
    expect(readme).toContain(renderMorningReport(report));
    expect(readme).toContain('from the ledger only (its history is gone)');
    expect(readme).toMatch(/missions\/sanity-coupons\/: the mission's workflow history \(nightly-qa-test-1-2026-12-01\/mission-sanity_coupons\): its workflow history is not in this namespace/);
    expect(fileOf(exported, 'findings.md')).toContain('No finding.');
  });

  it('writes a night still running with what it has, and says it is running', async () => {
    const leadId = 'nightly-qa-test-5-2026-12-05';
    const recorded = JSON.parse(fs.readFileSync(path.join(HISTORIES, 'nightly-qa-lead.json'), 'utf8')) as { events: { eventId: string; activityTaskCompletedEventAttributes?: { scheduledEventId: string } }[] };
    // The history as it stood when the first mission's record was written (the activity scheduled at event 51 completed).
    const upTo = recorded.events.findIndex((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId === '51');
    const running = { events: recorded.events.slice(0, upTo + 1) };
    const calls = recordedCalls('nightly-qa-lead.json');
    const firstRecord = calls.findIndex((c) => c.name === 'recordMission');
    const readers = readersOver({}, { qaLedger: await ledgerOfNight('nightly-qa-lead.json', firstRecord + 1) });
    readers.history.fetch = async (workflowId) => (workflowId === leadId ? historyFromJSON(running) : null);

    const exported = await exportRun(readers, leadId);

    const readme = fileOf(exported, 'README.md');
    expect(readme).toContain('**still running**');
    expect(readme).toContain('still running at export time (2026-12-03T10:00:00.000Z)');
    expect(readme).toContain('report.json: the night has no morning report yet (it is still running)');
    expect(exported.files.some((f) => f.path === 'report.json')).toBe(false);
    // What the night had so far: the mission it recorded, with its lead, and no notion yet of what it did not repeat.
    expect(fileOf(exported, 'plan.md')).toContain('`sanity:coupons`');
    expect(fileOf(exported, 'plan.md')).not.toContain('probe:scripts/build.js');
    expect(fileOf(exported, 'plan.md')).toContain('Not known yet');
    expect(fileOf(exported, 'findings.md')).toContain('- coupon codes may be case-sensitive (`sanity:coupons`; src/coupons.js): no test shows it yet');
  });
});
