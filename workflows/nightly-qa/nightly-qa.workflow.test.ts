import * as path from 'node:path';
import { PostgresQaLedger } from '../../adapters/postgres-qa-ledger.adapter';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import { demoServicesConfig } from '../../config/config';
import {
  incidentStateQuery,
  INCIDENT_WORKFLOW_TYPE,
  NIGHTLY_QA_WORKFLOW_TYPE,
  nightlyQaScheduleId,
  qaMissionWorkflowId,
  qaNightStateQuery,
  SEARCH_ATTRIBUTES,
  pullRequestResolvedSignal,
  type IncidentPolicy,
  type NightlyQaPolicy,
  type NightlyQaWorkflowInput,
} from '../../contracts';
import { findingSignature } from '../../domain/nightly-qa/finding-signature';
import type { MorningReport } from '../../domain/nightly-qa/report';
import { ensureNightlyQaSchedules } from '../../infra/nightly-qa-schedule';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../../ports/model.port';
import { demoTranscriptSteps, ScriptedModel, type ScriptedTurn } from '../../test/fakes/scripted-model';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../../test/support/harness';
import { recordHistory as recordHistoryOf } from '../../test/support/record-history';
import { runCli } from '../../cli/program';
import { buildCliContext } from '../../workers/cli-context';
import { missionDir } from '../../use-cases/export-run/night-tree';
import * as fs from 'node:fs';

/**
 * Nights of QA on the dev server, over the demo repository: the real planner, ledger (Postgres),
 * code search (git), mission agent in a sandbox and incident workflow, with the model's answers
 * scripted per mission turn (`qa.<missionId>.turn-<n>`, as the mission agent names its steps).
 * A mission a test does not script finishes at its first turn, having found nothing.
 */
const SERVICE = 'checkout-service';
const QA_PATH = 'test/coupon.qa.test.js';
const EXPECTED = "TypeError: Cannot read properties of undefined (reading 'percent')";
/** The demo service under a name of this run's own, so that its schedule id is no other test's on the shared dev server. */
const SCHEDULED = `checkout-qa-flow-${process.pid}`;

/**
 * A model family the worker prices, so that a mission's scripted turns cost what a real model's
 * would: $1,000 per million tokens, a few dollars for a turn that sends the mission's prompt.
 */
const PRICED_MODEL = 'scripted-priced';
const PRICE_PER_MTOK = 1_000;

/** The scripted model, plus what each mission's turns answer: a mission not given any finishes at once. */
class MissionScript implements ModelPort {
  readonly name = 'scripted';
  readonly scripted: ScriptedModel;
  /** Per mission id (or '*' for whichever mission is asked first), the turns it answers, in order. */
  private readonly plans = new Map<string, ScriptedTurn[]>();
  private firstTaken: string | null = null;

  constructor(steps: Record<string, unknown>) {
    this.scripted = new ScriptedModel(steps);
  }

  /** Missions whose turns answer as the priced model family (PRICED_MODEL), so that they spend. */
  private readonly priced = new Set<string>();

  /** The next night's first mission (whichever the plan puts first) answers these turns. */
  firstMissionAnswers(turns: ScriptedTurn[]): void {
    this.firstTaken = null;
    this.plans.set('*', turns);
  }

  /** Every mission of the nights from now on spends: its turns answer as the priced model. */
  priceEveryMission(on: boolean): void {
    this.pricing = on;
  }
  private pricing = false;

  complete(request: ModelRequest): Promise<ModelResponse> {
    return this.scripted.complete(request);
  }

  converse(request: ConversationRequest): Promise<ConversationTurn> {
    const match = /^qa\.(.+)\.turn-(\d+)$/.exec(request.step);
    if (match) {
      const [, missionId, n] = match as unknown as [string, string, string];
      if (this.plans.has('*') && (this.firstTaken === null || this.firstTaken === missionId)) {
        this.firstTaken = missionId;
        this.plans.set(missionId, this.plans.get('*')!);
        this.plans.delete('*');
      }
      const turns = this.plans.get(missionId) ?? [finish('Nothing found in this mission.')];
      this.scripted.script(request.step, turns[Number(n) - 1] ?? finish('Done.'));
      if (this.pricing) this.priced.add(missionId);
      if (this.priced.has(missionId)) return this.scripted.converse(request).then((turn) => ({ ...turn, model: PRICED_MODEL }));
    }
    return this.scripted.converse(request);
  }
}

const finish = (summary: string): ScriptedTurn => ({ text: summary, toolCalls: [{ id: `finish-${summary.length}`, name: 'finish', input: { summary } }] });

describe('nightly QA workflow', () => {
  let h: Harness;
  let model: MissionScript;
  let qaLedger: PostgresQaLedger;
  const steps = demoTranscriptSteps();
  let nights = 0;

  beforeAll(async () => {
    h = await createHarness({ servicesOfTheDemoRepository: [SCHEDULED] });
    // The fix steps of the demo transcript fix the coupon finding's incident as they fix the demo alert.
    model = new MissionScript(Object.fromEntries(Object.entries(steps).filter(([step]) => step !== 'triage' && !step.startsWith('reproduce.'))));
    qaLedger = new PostgresQaLedger(h.pool);
    await h.startWorker({
      modelPrices: { [PRICED_MODEL]: { inputPerMTok: PRICE_PER_MTOK, outputPerMTok: PRICE_PER_MTOK } },
      ports: { model, qaLedger, codeSearch: new GitCodeSearch({ repositories: { [SERVICE]: h.repositoryPath, [SCHEDULED]: h.repositoryPath }, mirrorRoot: path.join(h.dataDir, 'code-search') }) },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const recordHistory = (name: string, workflowId: string) => recordHistoryOf(h.client, name, workflowId);

  const policy = (overrides: Partial<NightlyQaPolicy> = {}): NightlyQaPolicy => ({
    budgetUsd: 10,
    missionBudgetUsd: 1,
    maxTurnsPerMission: 4,
    maxMissions: 2,
    notifyQuietNights: false,
    timeZone: 'UTC',
    ...overrides,
  });

  const startNight = (at: string, overrides: Partial<NightlyQaPolicy> = {}, incidentOverrides: Partial<IncidentPolicy> = {}) => {
    nights += 1;
    const input: NightlyQaWorkflowInput = { service: SERVICE, policy: policy(overrides), incidentPolicy: { ...testPolicy(), sandboxTaskQueue: sandboxQueueFor(h.taskQueue), ...incidentOverrides }, at };
    return h.client.workflow.start(NIGHTLY_QA_WORKFLOW_TYPE, { workflowId: `nightly-qa-test-${nights}-${at.slice(0, 10)}`, taskQueue: h.taskQueue, args: [input] });
  };

  /** Whether a night's history started an incident as its child. */
  const incidentChildrenOf = async (workflowId: string): Promise<number> => {
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === INCIDENT_WORKFLOW_TYPE).length;
  };

  it('plans the least explored areas first from a seeded ledger, and runs different missions the next night on the same code', async () => {
    // An earlier night explored src/pricing.js and src/server.js yesterday; nothing else was ever explored.
    const yesterday = '2026-11-30T02:05:00.000Z';
    await qaLedger.startNight({ nightId: 'seeded-night', service: SERVICE, night: '2026-11-30', revision: h.revision, startedAt: '2026-11-30T02:00:00.000Z', budgetUsd: 5 });
    for (const area of ['src/pricing.js', 'src/server.js']) {
      await qaLedger.recordMission({
        nightId: 'seeded-night',
        missionId: `probe:${area}`,
        service: SERVICE,
        kind: 'probe-least-explored',
        reason: 'seeded',
        status: 'done',
        areas: [area],
        filesRead: [area],
        commandsRun: [],
        testsWritten: [],
        findings: [],
        leads: [],
        costUsd: 0.1,
        turns: 1,
        recordedAt: yesterday,
      });
    }
    const seededReport: MorningReport = {
      service: SERVICE,
      night: '2026-11-30',
      nightId: 'seeded-night',
      findings: [],
      leads: [],
      areas: { newlyCovered: ['src/pricing.js', 'src/server.js'], alreadyCovered: [] },
      missionsRun: [],
      missionsSkipped: [],
      costUsd: 0.2,
      budgetUsd: 5,
    };
    await qaLedger.finishNight('seeded-night', { status: 'done', costUsd: 0.2, report: seededReport, finishedAt: yesterday });

    const first = await startNight('2026-12-01T02:00:00.000Z');
    const firstReport = (await first.result()) as MorningReport;
    const firstState = await first.query(qaNightStateQuery);
    expect(firstState.status).toBe('done');
    const probes = firstState.planned.filter((m) => m.kind === 'probe-least-explored').map((m) => m.id);
    expect(probes.length).toBeGreaterThan(0);
    // Yesterday's probes are neither first nor repeated: their areas did not change since.
    expect(probes).not.toContain('probe:src/pricing.js');
    expect(probes).not.toContain('probe:src/server.js');
    expect(firstReport.notRepeated).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'probe:src/pricing.js', why: expect.stringContaining('ran last night') })]));
    expect(firstReport.missionsRun.map((m) => m.id)).toEqual(firstState.planned.map((m) => m.id));
    expect(firstReport.areas.newlyCovered.length).toBeGreaterThan(0);
    // A quiet night sends nothing, and is kept.
    expect(firstReport.findings).toEqual([]);
    expect(h.deliveredNotifications(first.workflowId)).toEqual([]);
    const kept = await qaLedger.night(first.workflowId);
    expect(kept).toMatchObject({ status: 'done', revision: h.revision, report: { nightId: first.workflowId } });
    // The candidates past the mission limit are kept as skipped, and reported.
    expect(firstReport.missionsSkipped.length).toBeGreaterThan(0);
    expect(firstReport.missionsSkipped.every((m) => m.skippedBecause === 'mission-limit')).toBe(true);
    expect(kept!.missions.map((m) => m.status)).toEqual([...firstState.planned.map(() => 'done'), ...firstReport.missionsSkipped.map(() => 'skipped-limit')]);
    const described = await first.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.night)).toBe('2026-12-01');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe(SERVICE);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.findings)).toBe(0);
    const metadata = (await first.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain('| mission | kind | status |');
    expect(metadata.currentDetails).toContain('not run again from last night');
    await recordHistory('nightly-qa-quiet', first.workflowId);

    const second = await startNight('2026-12-02T02:00:00.000Z');
    const secondReport = (await second.result()) as MorningReport;
    const firstIds = firstReport.missionsRun.map((m) => m.id);
    const secondIds = secondReport.missionsRun.map((m) => m.id);
    expect(secondIds.length).toBeGreaterThan(0);
    expect(secondIds.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(secondReport.notRepeated!.map((n) => n.id)).toEqual(expect.arrayContaining(firstIds));
    expect(secondReport.areas.alreadyCovered.length + secondReport.areas.newlyCovered.length).toBeGreaterThan(0);
  });

  it("takes a proven finding through the gate to a child incident that opens a PR, and reports it while the incident follows the PR", async () => {
    const testSource = (steps['reproduce.try-1'] as { content: string }).content;
    model.firstMissionAnswers([
      {
        text: 'An order without a coupon code looks like it reads percent of undefined; writing a test that shows it.',
        toolCalls: [
          { id: 'qa-write', name: 'write_file', input: { path: QA_PATH, content: testSource } },
          {
            id: 'qa-finding',
            name: 'report_finding',
            input: { title: 'an order without a coupon code crashes pricing', detail: 'pricing reads the coupon percent of undefined', testPath: QA_PATH, command: `node --test --test-reporter=tap ${QA_PATH}`, expectedFailure: EXPECTED, areas: ['src/pricing.js'] },
          },
        ],
      },
      finish('Proved one bug.'),
    ]);
    // As in production: after its PR the incident follows it until merged or closed (days), which the night must not wait for.
    const night = await startNight('2026-12-03T02:00:00.000Z', { maxMissions: 1 }, { prFollowUpMs: 14 * 24 * 3_600_000 });
    const report = (await night.result()) as MorningReport;

    expect(report.findings).toHaveLength(1);
    const [finding] = report.findings;
    expect(finding).toMatchObject({ signature: findingSignature(SERVICE, EXPECTED), testPath: QA_PATH, duplicateOf: null, incidentId: expect.any(String), pullRequestUrl: expect.stringMatching(/^local-git:\/\//), incidentStage: 'pr_opened' });
    const incident = h.client.workflow.getHandle(finding!.incidentId!);
    const state = await incident.query(incidentStateQuery);
    expect(state.status).toBe('pr_opened');
    expect((await incident.describe()).status.name).toBe('RUNNING');
    expect(state.foundBy).toEqual({ kind: 'nightly-qa', nightWorkflowId: night.workflowId, missionId: finding!.missionId });
    expect(state.reproduction!.runsBefore).toHaveLength(2);
    expect(await incidentChildrenOf(night.workflowId)).toBe(1);

    const [message] = h.deliveredNotifications(night.workflowId);
    expect(message).toMatchObject({ kind: 'qa_morning_report', key: `${night.workflowId}:qa_morning_report` });
    expect(message!.text).toContain(`PR ${finding!.pullRequestUrl}`);
    const kept = await qaLedger.night(night.workflowId);
    expect(kept!.missions[0]!.findings[0]).toMatchObject({ incidentId: finding!.incidentId, pullRequestUrl: finding!.pullRequestUrl });
    expect((await night.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.findings)).toBe(1);
    await recordHistory('nightly-qa-finding-to-pr', night.workflowId);
    await recordHistory('qa-mission-finding', qaMissionWorkflowId(night.workflowId, finding!.missionId));

    // `steward export` of this night, from the dev server and the QA ledger in Postgres, as the CLI runs it.
    const dir = path.join(h.dataDir, `export-${night.workflowId}`);
    const out: string[] = [];
    const err: string[] = [];
    const env = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, DATABASE_URL: h.databaseUrl, STEWARD_DATA_DIR: h.dataDir };
    const code = await runCli(['export', night.workflowId, dir], buildCliContext({ out: (t) => out.push(t), err: (t) => err.push(t), write: (t) => out.push(t) }, env));
    expect({ code, err }).toEqual({ code: 0, err: [] });
    const exported = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
    expect(JSON.parse(exported('ledger/night.json'))).toMatchObject({ nightId: night.workflowId, status: 'done' });
    expect(JSON.parse(exported('report.json'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(exported('findings.md')).toContain(finding!.pullRequestUrl!);
    expect(exported(`${missionDir(finding!.missionId)}/test/${QA_PATH}`)).toBe(testSource);
    expect(fs.readdirSync(path.join(dir, missionDir(finding!.missionId), 'turns')).length).toBeGreaterThan(0);

    // The PR merged after the report: the incident's word to its night, which has ended, does not fail the incident.
    await incident.signal(pullRequestResolvedSignal, { number: state.pullRequest!.number, merged: true, mergeCommitSha: null, at: '2026-12-04T09:00:00.000Z' });
    expect(await incident.result()).toMatchObject({ status: 'pr_merged' });
  });

  it('reports a finding already known as an open incident or PR, and opens no second incident', async () => {
    const testSource = (steps['reproduce.try-1'] as { content: string }).content;
    model.firstMissionAnswers([
      {
        text: 'The same crash, found again by another test.',
        toolCalls: [
          { id: 'qa-write', name: 'write_file', input: { path: 'test/coupon-again.qa.test.js', content: testSource } },
          {
            id: 'qa-finding',
            name: 'report_finding',
            input: { title: 'pricing crashes without a coupon', detail: 'the same bug', testPath: 'test/coupon-again.qa.test.js', command: 'node --test --test-reporter=tap test/coupon-again.qa.test.js', expectedFailure: EXPECTED },
          },
        ],
      },
      finish('Found it again.'),
    ]);
    const night = await startNight('2026-12-04T02:00:00.000Z', { maxMissions: 1 });
    const report = (await night.result()) as MorningReport;

    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ incidentId: null, pullRequestUrl: null, duplicateOf: expect.stringMatching(/^(incident|pull-request):/) });
    expect(await incidentChildrenOf(night.workflowId)).toBe(0);
    expect(h.deliveredNotifications(night.workflowId)[0]!.text).toContain('already known as');
    expect((await night.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.findings)).toBe(0);
    await recordHistory('nightly-qa-duplicate-finding', night.workflowId);
  });

  it('reports a lead without a failing test, and opens nothing for it', async () => {
    model.firstMissionAnswers([
      { text: 'Suspicious.', toolCalls: [{ id: 'qa-lead', name: 'report_lead', input: { title: 'coupon codes may be case-sensitive', detail: 'no test shows it yet', areas: ['src/coupons.js'] } }] },
      finish('One lead.'),
    ]);
    const night = await startNight('2026-12-05T02:00:00.000Z', { maxMissions: 1 });
    const report = (await night.result()) as MorningReport;

    expect(report.findings).toEqual([]);
    expect(report.leads).toEqual([expect.objectContaining({ title: 'coupon codes may be case-sensitive' })]);
    expect(await incidentChildrenOf(night.workflowId)).toBe(0);
    // A lead is not a quiet night: the report goes out, the lead under its own heading.
    const [message] = h.deliveredNotifications(night.workflowId);
    expect(message!.text).toContain('Leads (no failing test, so not opened)');
    await recordHistory('nightly-qa-lead', night.workflowId);
  });

  it("stops missions when what they spent uses up the night's budget, and reports the rest as not run", async () => {
    // Each mission's turns cost dollars: the first one's spend goes past its own allowance and the night's budget.
    model.firstMissionAnswers([{ text: 'Looking around.', toolCalls: [{ id: 'list-1', name: 'list_files', input: { path: 'src' } }] }, finish('Out of budget.')]);
    model.priceEveryMission(true);
    try {
      const night = await startNight('2026-12-07T02:00:00.000Z', { budgetUsd: 1, missionBudgetUsd: 0.6, maxMissions: 3, maxTurnsPerMission: 10 });
      const report = (await night.result()) as MorningReport;
      const state = await night.query(qaNightStateQuery);
      expect(state.planned.length).toBeGreaterThan(1);
      expect(report.missionsRun).toHaveLength(1);
      // Spent, not assumed: the mission's cost is what the metered ledger added up for its turns.
      expect(report.missionsRun[0]!.costUsd).toBeGreaterThanOrEqual(0.6);
      expect(report.costUsd).toBeCloseTo(report.missionsRun[0]!.costUsd, 6);
      // Every mission within the limit after the first was skipped for the budget (those past the limit, for the limit).
      expect(report.missionsSkipped.filter((m) => m.skippedBecause === 'budget').map((m) => m.id)).toEqual(state.planned.slice(1).map((m) => m.id));
      expect(report.missionsSkipped.filter((m) => m.skippedBecause !== 'budget').every((m) => m.skippedBecause === 'mission-limit')).toBe(true);
      const kept = await qaLedger.night(night.workflowId);
      expect(kept!.missions.map((m) => m.status).slice(0, state.planned.length)).toEqual(['done', ...state.planned.slice(1).map(() => 'skipped-budget')]);
      expect((await night.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.costUsd)).toBeCloseTo(report.costUsd, 6);
      await recordHistory('nightly-qa-spend-stops-missions', night.workflowId);
    } finally {
      model.priceEveryMission(false);
    }
  });

  it("stops missions when the night's budget is spent: a failed mission counts its whole allowance, the rest are skipped and reported", async () => {
    // The first mission's model call fails for good (no such recording): the mission fails, the night goes on.
    model.firstMissionAnswers([]);
    const failing = model.scripted;
    const original = failing.converse.bind(failing);
    let failedOnce = false;
    failing.converse = async (request) => {
      if (!failedOnce && request.step.startsWith('qa.')) {
        failedOnce = true;
        return original({ ...request, step: 'qa.no-such-mission.turn-0' });
      }
      return original(request);
    };
    try {
      const night = await startNight('2026-12-06T02:00:00.000Z', { budgetUsd: 1, missionBudgetUsd: 0.6, maxMissions: 3 });
      const report = (await night.result()) as MorningReport;
      const state = await night.query(qaNightStateQuery);
      expect(state.missionsRun).toHaveLength(1);
      expect(report.missionsRun[0]!.reason).toContain('failed');
      expect(report.missionsSkipped.filter((m) => m.skippedBecause === 'budget').map((m) => m.id)).toEqual(state.planned.slice(1).map((m) => m.id));
      const kept = await qaLedger.night(night.workflowId);
      expect(kept!.missions.map((m) => m.status).slice(0, state.planned.length)).toEqual(['failed', ...state.planned.slice(1).map(() => 'skipped-budget')]);
      await recordHistory('nightly-qa-budget-spent', night.workflowId);
    } finally {
      failing.converse = original;
    }
  });

  it('keeps a night that could not read its revision as failed, and fails with the reason', async () => {
    const handle = await h.client.workflow.start(NIGHTLY_QA_WORKFLOW_TYPE, {
      workflowId: `nightly-qa-test-unknown-service-${process.pid}`,
      taskQueue: h.taskQueue,
      args: [{ service: 'no-such-service', policy: policy(), incidentPolicy: { ...testPolicy(), sandboxTaskQueue: sandboxQueueFor(h.taskQueue) }, at: '2026-12-07T02:00:00.000Z' } satisfies NightlyQaWorkflowInput],
    });
    await expect(handle.result()).rejects.toMatchObject({ cause: { cause: { type: 'ServiceNotConfigured' } } });
    expect(await qaLedger.night(handle.workflowId)).toMatchObject({ status: 'failed', revision: null, report: { missionsRun: [], findings: [] } });
  });

  it('runs a night end to end from its schedule', async () => {
    const demo = demoServicesConfig(h.dataDir)[SERVICE]!;
    const services = { [SCHEDULED]: { ...demo, nightlyQa: { ...demo.nightlyQa, maxMissions: 1 } } };
    const scheduleId = nightlyQaScheduleId(SCHEDULED);
    await ensureNightlyQaSchedules(h.client, services, h.taskQueue, { ...testPolicy(), sandboxTaskQueue: sandboxQueueFor(h.taskQueue) });
    const schedule = h.client.schedule.getHandle(scheduleId);
    try {
      await schedule.trigger();
      let workflowId: string | null = null;
      for (let i = 0; i < 100 && !workflowId; i += 1) {
        const action = (await schedule.describe()).info.recentActions.at(-1);
        workflowId = action?.action.workflow.workflowId ?? null;
        if (!workflowId) await new Promise((r) => setTimeout(r, 200));
      }
      expect(workflowId).toMatch(new RegExp(`^${scheduleId}`));
      const report = (await h.client.workflow.getHandle(workflowId!).result()) as MorningReport;
      expect(report.service).toBe(SCHEDULED);
      expect(report.missionsRun.length + report.missionsSkipped.length).toBeGreaterThan(0);
      expect(await qaLedger.night(workflowId!)).toMatchObject({ status: 'done' });
    } finally {
      await schedule.delete();
    }
  });
});
