import { execFileSync, spawnSync } from 'node:child_process';
import { MockActivityEnvironment } from '@temporalio/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENT_TOOL_SCHEMAS, isAgentToolName } from '../activities/fix/agent-tools.schema';
import { createNightlyQaActivities } from '../activities/nightly-qa/nightly-qa.activities';
import { createQaCandidateActivities } from '../activities/nightly-qa/qa-candidates.activities';
import { createQaMissionActivities } from '../activities/qa-mission/qa-mission.activities';
import { isQaMissionToolName, QA_MISSION_TOOL_SCHEMAS } from '../activities/qa-mission/qa-mission-tools.schema';
import { MeteredModel } from '../activities/shared/metered-model';
import { GitCodeSearch } from '../adapters/git-code-search.adapter';
import { ReplayModel } from '../adapters/replay-model.adapter';
import { demoServicesConfig } from '../config/config';
import { findingSignature } from '../domain/nightly-qa/finding-signature';
import { planNight, type AreaFacts, type NightPlan, type PastMission } from '../domain/nightly-qa/planner';
import { matchReproduction } from '../domain/reproduction-match';
import type { ServicesConfig } from '../domain/service-config';
import { ProcessSandbox } from '../sandbox/process-sandbox.adapter';
import { InMemoryAgentConversations } from '../test/fakes/in-memory-agent-conversations';
import { InMemoryCodeHost } from '../test/fakes/in-memory-code-host';
import { InMemoryIncidentLedger } from '../test/fakes/in-memory-ledger';
import { activityEnvironment, runActivity } from '../test/support/reproduced-demo-incident';
import { InMemoryQaLedger } from '../test/fakes/in-memory-qa-ledger';
import { ensureDemoRepository, NIGHTLY_QA_TRANSCRIPT_PATH } from './demo-fixtures';

/**
 * The nightly QA demo's recorded transcript against the demo repository it was written for: the
 * two nights' plans computed by the real planner (over the candidates, areas, history and merged
 * PRs the night's own activities read from the repository), the transcript holding every planned
 * mission's turns, night 2's missions differing from night 1's, and the transcript's probing test
 * failing twice at the demo revision, as the reproduction gate wants, and passing after the
 * transcript's fix, with the repository's suite green.
 */

const SERVICE = 'checkout-service';
const transcript = JSON.parse(fs.readFileSync(NIGHTLY_QA_TRANSCRIPT_PATH, 'utf8')) as { provenance: string; steps: Record<string, { response: Record<string, unknown> }> };
type ToolCall = { id: string; name: string; input: Record<string, unknown> };
const turnsOf = (missionId: string): ToolCall[][] => {
  const turns: ToolCall[][] = [];
  for (let n = 1; transcript.steps[`qa.${missionId}.turn-${n}`]; n += 1) turns.push(transcript.steps[`qa.${missionId}.turn-${n}`]!.response.toolCalls as ToolCall[]);
  return turns;
};
const callsOf = (missionId: string, tool: string): ToolCall[] => turnsOf(missionId).flatMap((turn) => turn.filter((c) => c.name === tool));

let root: string;
let repository: string;
let revision: string;
let services: ServicesConfig;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'steward-demo-nightly-qa-'));
  services = demoServicesConfig(root);
  repository = services[SERVICE]!.repository;
  revision = ensureDemoRepository(repository);
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Both nights as the nightly workflow plans them, the first night's missions covering what their scripted turns read. */
async function planTwoNights(): Promise<{ night1: NightPlan; night2: NightPlan; areas: AreaFacts[] }> {
  const codeSearch = new GitCodeSearch({ repositories: { [SERVICE]: repository }, mirrorRoot: path.join(root, 'mirrors') });
  const activities = createNightlyQaActivities({
    ledger: new InMemoryQaLedger(),
    codeHost: new InMemoryCodeHost({ repositories: { [repository]: { main: revision } } }),
    codeSearch,
    services,
  });
  const qa = services[SERVICE]!.nightlyQa;
  const settings = { maxMissions: qa.maxMissions, missionBudgetUsd: qa.missionBudgetUsd, maxTurnsPerMission: qa.maxTurnsPerMission };
  const night1At = new Date('2026-12-03T02:00:00Z');
  const headRevision = await activities.nightRevision({ service: SERVICE });
  expect(headRevision).toBe(revision);
  // The real candidates: the repository's source files and the services file's core features.
  // In an activity's context, as a worker runs it: it heartbeats while it reads the tests.
  const { qaCandidates } = createQaCandidateActivities({ codeSearch, codeHost: new InMemoryCodeHost(), ledger: new InMemoryIncidentLedger(), monitors: { list: async () => [] }, services });
  const candidates = (await new MockActivityEnvironment().run(qaCandidates, { service: SERVICE, revision })) as Awaited<ReturnType<typeof qaCandidates>>;
  const { coreFeatures } = candidates;
  expect(coreFeatures.map((f) => f.source)).toEqual(qa.coreFeatures!.map(() => 'services-file'));
  const areas = await activities.areaFacts({ service: SERVICE, revision, areas: candidates.areas });
  const merged = await activities.mergedSince({ service: SERVICE, since: new Date(night1At.getTime() - 7 * 86_400_000).toISOString() });
  const night1 = planNight({ now: night1At.toISOString(), settings, history: [], areas, mergedPullRequests: merged, coreFeatures });
  // What the ledger holds after night 1: each mission's planned areas and the files its turns read, a minute apart.
  const history: PastMission[] = night1.missions.map((m, i) => ({
    nightId: 'night-1',
    missionId: m.id,
    kind: m.kind,
    areas: [...new Set([...m.areas, ...callsOf(m.id, 'read_file').map((c) => String(c.input.path))])],
    ran: true,
    recordedAt: new Date(night1At.getTime() + (i + 1) * 60_000).toISOString(),
  }));
  const night2 = planNight({ now: new Date(night1At.getTime() + 10 * 60_000).toISOString(), settings, history, areas, mergedPullRequests: merged, coreFeatures });
  return { night1, night2, areas };
}

describe('the nightly QA demo transcript, against the demo repository', () => {
  it('is a transcript the replay model serves, labelled as scripted, not a live model', () => {
    const model = new ReplayModel(NIGHTLY_QA_TRANSCRIPT_PATH);
    expect(model.label).toMatch(/scripted/);
    expect(transcript.provenance).toMatch(/not the output of a live model run/);
  });

  it("calls the mission agent's and the fix agent's tools with inputs their schemas accept", () => {
    const problems: string[] = [];
    for (const [step, { response }] of Object.entries(transcript.steps)) {
      if (!Array.isArray(response.toolCalls)) continue;
      for (const call of response.toolCalls as ToolCall[]) {
        const schema = step.startsWith('qa.') ? (isQaMissionToolName(call.name) ? QA_MISSION_TOOL_SCHEMAS[call.name] : null) : isAgentToolName(call.name) ? AGENT_TOOL_SCHEMAS[call.name] : null;
        if (!schema) problems.push(`${step}: no tool ${call.name}`);
        else if (!schema.safeParse(call.input).success) problems.push(`${step}: ${call.name} input refused`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("holds every mission of both nights the real planner chooses, and night 2's missions are other ones, with why", async () => {
    const { night1, night2, areas } = await planTwoNights();
    const describe = (plan: NightPlan) => plan.missions.map((m) => `  ${m.id}: ${m.reason}`).join('\n');
    // Figures, not assertions: what the demo will print as the two plans.
    console.log(
      `areas: ${areas.map((a) => `${a.path}${a.tested ? '' : ' (untested)'}`).join(', ')}\nnight 1:\n${describe(night1)}\nnight 2:\n${describe(night2)}\nnot repeated:\n${night2.notRepeated.map((n) => `  ${n.id}: ${n.why}`).join('\n')}`,
    );

    expect(night1.missions).toHaveLength(services[SERVICE]!.nightlyQa.maxMissions);
    // The coupons feature is night 1's sanity mission: the one whose script proves the bug.
    expect(night1.missions.map((m) => m.id)).toContain('sanity:coupons');
    const night1Ids = new Set(night1.missions.map((m) => m.id));
    expect(night2.missions.length).toBeGreaterThan(0);
    expect(night2.missions.filter((m) => night1Ids.has(m.id))).toEqual([]);
    // Every mission of night 1 that night 2 could have chosen again is said not repeated, and why.
    expect(night2.notRepeated.map((n) => n.id).sort()).toEqual([...night1Ids].sort());
    for (const n of night2.notRepeated) expect(n.why).toMatch(/ran last night .* and its areas have not changed since/);

    for (const mission of [...night1.missions, ...night2.missions]) {
      const turns = turnsOf(mission.id);
      expect({ mission: mission.id, scripted: turns.length > 0 }).toEqual({ mission: mission.id, scripted: true });
      expect(turns.length).toBeLessThanOrEqual(mission.maxTurns);
      // Each script ends its mission, and uses only the mission agent's tools.
      expect(turns.at(-1)!.map((c) => c.name)).toContain('finish');
      for (const call of turns.flat()) expect(['read_file', 'list_files', 'grep', 'write_file', 'run_command', 'report_finding', 'report_lead', 'finish']).toContain(call.name);
    }
    // One finding over both nights, on night 1; night 2 reports none.
    const findingsOf = (plan: NightPlan) => plan.missions.flatMap((m) => callsOf(m.id, 'report_finding'));
    expect(findingsOf(night1)).toHaveLength(1);
    expect(findingsOf(night2)).toEqual([]);
  });

  describe("the finding's test and the fix", () => {
    const [finding] = callsOf('sanity:coupons', 'report_finding').map((c) => c.input as { testPath: string; command: string; expectedFailure: string });
    const written = callsOf('sanity:coupons', 'write_file').find((c) => c.input.path === finding!.testPath)!.input as { path: string; content: string };
    let checkout: string;

    beforeAll(() => {
      checkout = path.join(root, 'checkout');
      execFileSync('git', ['clone', '--quiet', repository, checkout]);
      execFileSync('git', ['-C', checkout, 'checkout', '--quiet', revision]);
      fs.writeFileSync(path.join(checkout, written.path), written.content);
    });
    const run = (command: string) => {
      const result = spawnSync('bash', ['-c', command], { cwd: checkout, encoding: 'utf8' });
      return { exitCode: result.status, output: `${result.stdout}${result.stderr}` };
    };

    it('is a new test that fails twice at the demo revision, each time for the reason it states', () => {
      expect(execFileSync('git', ['-C', repository, 'ls-tree', '--name-only', revision, finding!.testPath], { encoding: 'utf8' }).trim()).toBe('');
      for (const attempt of [1, 2]) {
        const { exitCode, output } = run(finding!.command);
        expect({ attempt, exitCode }).toEqual({ attempt, exitCode: 1 });
        expect(matchReproduction(finding!.expectedFailure, output)).toMatchObject({ matched: true });
      }
      expect(findingSignature(SERVICE, finding!.expectedFailure)).toMatch(/^qa-[0-9a-f]{16}$/);
    });

    it("passes after the transcript's fix, and the suite passes with it", () => {
      const edits = Object.entries(transcript.steps)
        .filter(([step]) => step.startsWith('fix.attempt-1.turn-'))
        .flatMap(([, s]) => (s.response.toolCalls as ToolCall[]).filter((c) => c.name === 'edit_file'))
        .map((c) => c.input as { path: string; oldText: string; newText: string });
      expect(edits.length).toBeGreaterThan(0);
      for (const edit of edits) {
        const file = path.join(checkout, edit.path);
        const before = fs.readFileSync(file, 'utf8');
        // The edit tool's own rule: the old text occurs exactly once.
        expect(before.split(edit.oldText)).toHaveLength(2);
        fs.writeFileSync(file, before.replace(edit.oldText, edit.newText));
      }
      expect(run(finding!.command).exitCode).toBe(0);
      const suite = run('node --test test/');
      expect(suite).toMatchObject({ exitCode: 0 });
      expect(suite.output).toMatch(/# fail 0/);
    });

    it("the other missions' written tests pass at the demo revision: they found nothing, as their scripts say", () => {
      execFileSync('git', ['-C', checkout, 'checkout', '--quiet', '--', '.']);
      const others = Object.keys(transcript.steps)
        .filter((step) => step.startsWith('qa.') && !step.startsWith('qa.sanity:coupons.'))
        .flatMap((step) => (transcript.steps[step]!.response.toolCalls as ToolCall[]).filter((c) => c.name === 'write_file'))
        .map((c) => c.input as { path: string; content: string });
      expect(others.length).toBeGreaterThan(0);
      for (const test of others) {
        fs.writeFileSync(path.join(checkout, test.path), test.content);
        expect({ test: test.path, ...run(`node --test ${test.path}`), output: undefined }).toEqual({ test: test.path, exitCode: 0, output: undefined });
      }
    });
  });

  describe('the real mission agent (runQaMission) replaying the transcript, in a process sandbox at the demo revision', () => {
    const runMission = async (missionId: string, areas: string[]) => {
      const ledger = new InMemoryIncidentLedger();
      const model = new MeteredModel(new ReplayModel(NIGHTLY_QA_TRANSCRIPT_PATH), ledger, {}, null);
      const sandbox = new ProcessSandbox({ root: path.join(root, 'sandboxes') });
      const activities = createQaMissionActivities({ model, sandbox, conversations: new InMemoryAgentConversations(), ledger, services, limits: { commandTimeoutMs: 60_000 } });
      const mission = { id: missionId, kind: 'sanity-core-features' as const, areas, reason: 'the demo', pullRequests: [], mergeCommits: [], features: [], budgetUsd: 1, maxTurns: services[SERVICE]!.nightlyQa.maxTurnsPerMission };
      return runActivity(activityEnvironment(), activities.runQaMission, { missionWorkflowId: `demo-night/mission-${missionId.replace(/[^\w.-]/g, '_')}`, service: SERVICE, revision, mission });
    };

    it('sanity:coupons proves the FIRSTORDER finding through the gate', async () => {
      const outcome = await runMission('sanity:coupons', ['src/coupons.js']);
      expect(outcome).toMatchObject({ endedBecause: 'finished', leads: [] });
      expect(outcome.findings.map((f) => ({ testPath: f.testPath, failingRuns: f.failingRuns }))).toEqual([{ testPath: 'test/qa-firstorder-case.test.js', failingRuns: 2 }]);
    }, 120_000);

    it('probe:src/coupons.js reports its lead and no finding', async () => {
      const outcome = await runMission('probe:src/coupons.js', ['src/coupons.js']);
      expect(outcome).toMatchObject({ endedBecause: 'finished', findings: [] });
      expect(outcome.leads.map((l) => l.title)).toEqual(['Once-per-customer redemptions are kept in memory']);
    }, 120_000);
  });
});
