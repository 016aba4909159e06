import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoServicesConfig } from '../../config/config';
import { ERROR_TYPES, type RunQaMissionInput } from '../../contracts';
import type { QaMissionPlan } from '../../domain/nightly-qa/mission';
import type { ServicesConfig } from '../../domain/service-config';
import type { ConversationRequest, ToolResult } from '../../ports/model.port';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { InMemoryAgentConversations } from '../../test/fakes/in-memory-agent-conversations';
import { InMemoryIncidentLedger } from '../../test/fakes/in-memory-ledger';
import { ScriptedModel, type ScriptedTurn } from '../../test/fakes/scripted-model';
import { activityEnvironment, runActivity } from '../../test/support/reproduced-demo-incident';
import { MeteredModel } from '../shared/metered-model';
import { createQaMissionActivities } from './qa-mission.activities';

const SERVICE = 'checkout';
const IDENTITY = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

/** The latent bug: a fixed coupon larger than the order takes the total below zero. No test of the repository's own covers it. */
const COUPON = `'use strict';
function applyCoupon(totalCents, coupon) {
  if (coupon.kind === 'percent') return Math.round(totalCents * (1 - coupon.value / 100));
  if (coupon.kind === 'fixed') return totalCents - coupon.value;
  throw new Error(\`unknown coupon kind \${coupon.kind}\`);
}
module.exports = { applyCoupon };
`;
const OWN_TEST = `const test = require('node:test');
const assert = require('node:assert');
const { applyCoupon } = require('../src/coupon');
test('percent coupon', () => assert.strictEqual(applyCoupon(1000, { kind: 'percent', value: 10 }), 900));
`;

/** Fails with the stated RangeError every time: the latent bug, proven. */
const PROVING_TEST = `const test = require('node:test');
const { applyCoupon } = require('../src/coupon');
test('a fixed coupon larger than the order', () => {
  const total = applyCoupon(500, { kind: 'fixed', value: 800 });
  if (total < 0) throw new RangeError(\`total went negative: \${total}\`);
});
`;
/** The same bug seen from a percent coupon over 100%: a second proving test. */
const SECOND_PROVING_TEST = `const test = require('node:test');
const { applyCoupon } = require('../src/coupon');
test('a percent coupon over 100', () => {
  const total = applyCoupon(500, { kind: 'percent', value: 150 });
  if (total < 0) throw new RangeError(\`total went negative: \${total}\`);
});
`;
const PASSING_TEST = `const test = require('node:test');
const assert = require('node:assert');
const { applyCoupon } = require('../src/coupon');
test('a fixed coupon smaller than the order', () => assert.strictEqual(applyCoupon(500, { kind: 'fixed', value: 100 }), 400));
`;
/** Fails, but with a TypeError of its own making (a function the module does not have). */
const WRONG_REASON_TEST = `const test = require('node:test');
const { applyCupon } = require('../src/coupon');
test('typo', () => { applyCupon(500, { kind: 'fixed', value: 800 }); });
`;
/** Fails on its first run and passes on its second: it flips a file in the workspace. */
const FLAKY_TEST = `const test = require('node:test');
const fs = require('node:fs');
test('flips', () => {
  if (fs.existsSync('qa-flip')) return;
  fs.writeFileSync('qa-flip', 'x');
  throw new RangeError('total went negative: -300');
});
`;

const EXPECTED = 'RangeError: total went negative: -300';
const COMMAND = (file: string) => `node --test --test-reporter=tap ${file}`;

const call = (id: string, name: string, input: unknown) => ({ id, name, input });
const turn = (text: string, ...toolCalls: ScriptedTurn['toolCalls']): ScriptedTurn => ({ text, toolCalls });
const resultsOf = (request: ConversationRequest): Record<string, ToolResult> => {
  const last = request.messages.at(-1);
  if (last?.role !== 'tool_results') throw new Error(`the last message is not tool results: ${JSON.stringify(last)}`);
  return Object.fromEntries(last.results.map((r) => [r.toolCallId, r]));
};
const finding = (id: string, testPath: string, overrides: Record<string, unknown> = {}) =>
  call(id, 'report_finding', { title: 'A fixed coupon larger than the order makes the total negative', detail: 'applyCoupon subtracts without a floor.', testPath, command: COMMAND(testPath), expectedFailure: EXPECTED, ...overrides });

/** Records which sandboxes were destroyed, around a real process sandbox. */
class ObservedSandbox extends ProcessSandbox {
  readonly destroyed: string[] = [];
  override async destroy(sandboxId: string): Promise<void> {
    this.destroyed.push(sandboxId);
    await super.destroy(sandboxId);
  }
}

describe('runQaMission (process sandbox over a git repository with a latent bug)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-qa-mission-'));
  const repository = path.join(root, 'checkout');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repository, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
  const demo = demoServicesConfig(root)['checkout-service']!;
  const services: ServicesConfig = {
    [SERVICE]: { ...demo, repository, githubRepository: null, setupCommand: null, testCommand: 'node --test --test-reporter=tap test/', nightlyQa: { ...demo.nightlyQa, startCommand: 'node src/server.js' } },
  };
  let revision: string;
  let nextMission = 0;

  beforeAll(() => {
    fs.mkdirSync(path.join(repository, 'src'), { recursive: true });
    fs.mkdirSync(path.join(repository, 'test'));
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repository, 'src', 'coupon.js'), COUPON);
    fs.writeFileSync(path.join(repository, 'test', 'coupon.test.js'), OWN_TEST);
    git('add', '-A');
    git('commit', '-q', '-m', 'coupons');
    revision = git('rev-parse', 'HEAD');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const mission = (overrides: Partial<QaMissionPlan> = {}): QaMissionPlan => ({
    id: 'probe:src/coupon.js',
    kind: 'probe-least-explored',
    areas: ['src/coupon.js'],
    reason: 'src/coupon.js was never explored and no test covers fixed coupons',
    pullRequests: [],
    mergeCommits: [],
    features: [],
    budgetUsd: 100,
    maxTurns: 6,
    ...overrides,
  });

  /** The model is metered into an in-memory ledger at a price, so that the mission's cost is what the ledger says it spent. */
  function setUp(script: Record<string, unknown>, options: { missionWorkflowId?: string; mission?: Partial<QaMissionPlan>; conversations?: InMemoryAgentConversations; ledger?: InMemoryIncidentLedger; pricePerMTok?: number } = {}) {
    const missionWorkflowId = options.missionWorkflowId ?? `nightly-qa-${SERVICE}-2026-12-03/mission-probe_src_coupon.js-${++nextMission}`;
    const sandbox = new ObservedSandbox({ root: path.join(root, 'sandboxes') });
    const scripted = new ScriptedModel(script);
    const ledger = options.ledger ?? new InMemoryIncidentLedger();
    const price = options.pricePerMTok ?? 1;
    const model = new MeteredModel(scripted, ledger, { scripted: { inputPerMTok: price, outputPerMTok: price } }, null);
    const conversations = options.conversations ?? new InMemoryAgentConversations();
    const activities = createQaMissionActivities({ model, sandbox, conversations, ledger, services, limits: { commandTimeoutMs: 60_000 } });
    const input: RunQaMissionInput = { missionWorkflowId, service: SERVICE, revision, mission: mission(options.mission) };
    const run = () => runActivity(activityEnvironment(), activities.runQaMission, input);
    return { missionWorkflowId, sandbox, model: scripted, ledger, conversations, run, input };
  }

  it('proves a finding: its own new test fails twice as stated, on a clean checkout; the prompt names the mission', async () => {
    const agent = setUp({
      'qa.probe:src/coupon.js.turn-1': turn('Reading the coupon code.', call('r1', 'read_file', { path: 'src/coupon.js' })),
      'qa.probe:src/coupon.js.turn-2': turn('A fixed coupon has no floor; probing it.', call('w1', 'write_file', { path: 'test/qa-fixed-coupon.test.js', content: PROVING_TEST }), call('c1', 'run_command', { command: COMMAND('test/qa-fixed-coupon.test.js') })),
      'qa.probe:src/coupon.js.turn-3': (request: ConversationRequest) => {
        const ran = resultsOf(request).c1!;
        if (ran.isError || !ran.content.includes('exit 1') || !ran.content.includes('total went negative: -300')) throw new Error(`the probing test did not run in the sandbox: ${ran.content}`);
        return turn('Reporting.', finding('f1', 'test/qa-fixed-coupon.test.js', { areas: ['src/coupon.js'] }));
      },
      'qa.probe:src/coupon.js.turn-4': (request: ConversationRequest) => {
        const proven = resultsOf(request).f1!;
        if (proven.isError || !proven.content.startsWith('Proven and recorded: A fixed coupon larger than the order makes the total negative. The test failed in 2 of 2 runs')) throw new Error(`not proven: ${proven.content}`);
        return turn('Done.', call('d1', 'finish', { summary: 'Fixed coupons take totals below zero.' }));
      },
    });
    const outcome = await agent.run();
    expect(outcome).toMatchObject({
      missionId: 'probe:src/coupon.js',
      endedBecause: 'finished',
      turns: 4,
      leads: [],
      filesRead: ['src/coupon.js'],
      testsWritten: ['test/qa-fixed-coupon.test.js'],
      commandsRun: [COMMAND('test/qa-fixed-coupon.test.js')],
      areasCovered: ['src/coupon.js'],
    });
    expect(outcome.findings).toEqual([
      {
        title: 'A fixed coupon larger than the order makes the total negative',
        detail: 'applyCoupon subtracts without a floor.',
        testPath: 'test/qa-fixed-coupon.test.js',
        testSource: PROVING_TEST,
        command: COMMAND('test/qa-fixed-coupon.test.js'),
        expectedFailure: EXPECTED,
        failingRuns: 2,
        evidence: expect.stringContaining("error: 'total went negative: -300'"),
        areas: ['src/coupon.js'],
      },
    ]);
    // The cost is what the ledger holds for the mission's four metered turns.
    const spent = await agent.ledger.incidentSpend(agent.missionWorkflowId);
    expect(spent.calls).toBe(4);
    expect(outcome.costUsd).toBeCloseTo(spent.costUsd, 12);
    expect(outcome.costUsd).toBeGreaterThan(0);

    // Each turn is its own step, paid under the mission workflow's id.
    expect(agent.model.stepsAsked()).toEqual([1, 2, 3, 4].map((n) => `qa.probe:src/coupon.js.turn-${n}`));
    const first = agent.model.lastConversation('qa.probe:src/coupon.js.turn-1');
    expect(first.incidentId).toBe(agent.missionWorkflowId);
    expect(first.tools.map((t) => t.name).sort()).toEqual(['finish', 'grep', 'list_files', 'read_file', 'report_finding', 'report_lead', 'run_command', 'write_file']);
    const task = (first.messages[0] as { role: 'user'; content: string }).content;
    expect(task).toContain('probe the areas explored least');
    expect(task).toContain('<untrusted source="areas">\n- src/coupon.js\n</untrusted>');
    expect(task).toContain('<untrusted source="mission reason">\nsrc/coupon.js was never explored and no test covers fixed coupons\n</untrusted>');
    expect(task).toContain('runs with: node --test --test-reporter=tap test/');
    expect(task).toContain('node src/server.js');
    expect(task).toContain('You have 6 turns and a model budget of $100.00');
    expect(agent.sandbox.destroyed).toEqual([`${agent.missionWorkflowId}-qa`.replace(/[^A-Za-z0-9._-]/g, '_')]);
  });

  it('names the PRs and their changed files for a stress mission, and the features for a sanity mission', async () => {
    const stress = setUp({ 'qa.stress:42.turn-1': turn('Done.', call('d1', 'finish', { summary: 'nothing' })) }, { mission: { id: 'stress:42', kind: 'stress-merged-prs', pullRequests: [42, 43], mergeCommits: ['4242abc', '43'.repeat(20)], areas: ['src/coupon.js', 'src/cart.js'], reason: 'merged since last night' } });
    await stress.run();
    const stressTask = (stress.model.lastConversation('qa.stress:42.turn-1').messages[0] as { content: string }).content;
    expect(stressTask).toContain('merged since the last night: #42, #43');
    expect(stressTask).toContain(`one merge commit each: #42: \`git show 4242abc\`, #43: \`git show ${'43'.repeat(20)}\``);
    expect(stressTask).toContain('<untrusted source="changed files">\n- src/coupon.js\n- src/cart.js\n</untrusted>');

    const sanity = setUp({ 'qa.sanity:coupons.turn-1': turn('Done.', call('d1', 'finish', { summary: 'nothing' })) }, { mission: { id: 'sanity:coupons', kind: 'sanity-core-features', features: ['coupons', 'checkout'], reason: 'core features' } });
    const outcome = await sanity.run();
    const sanityTask = (sanity.model.lastConversation('qa.sanity:coupons.turn-1').messages[0] as { content: string }).content;
    expect(sanityTask).toContain("sanity-test the service's core features: coupons, checkout.");
    expect(outcome).toMatchObject({ endedBecause: 'finished', turns: 1, findings: [], leads: [] });
  });

  it('refuses a test that passes, with why, and a claim never proven becomes a lead', async () => {
    const agent = setUp({
      'qa.probe:src/coupon.js.turn-1': turn('Probing.', call('w1', 'write_file', { path: 'test/qa-small-coupon.test.js', content: PASSING_TEST }), finding('f1', 'test/qa-small-coupon.test.js')),
      'qa.probe:src/coupon.js.turn-2': (request: ConversationRequest) => {
        const refused = resultsOf(request).f1!;
        if (!refused.isError || !refused.content.startsWith('Not proven: the test passed on run 1, so it proves no bug at this revision.')) throw new Error(`a passing test was not refused: ${refused.content}`);
        return turn('Giving up on it.', call('l1', 'report_lead', { title: 'Coupons may stack', detail: 'Nothing stops two coupons on one order.' }), call('d1', 'finish', { summary: 'no proof' }));
      },
    });
    const outcome = await agent.run();
    expect(outcome.findings).toEqual([]);
    expect(outcome.leads).toEqual([
      { missionId: 'probe:src/coupon.js', title: 'Coupons may stack', detail: 'Nothing stops two coupons on one order.', areas: ['src/coupon.js'] },
      {
        missionId: 'probe:src/coupon.js',
        title: 'A fixed coupon larger than the order makes the total negative',
        detail: 'applyCoupon subtracts without a floor.\nNot proven: the test passed on run 1, so it proves no bug at this revision (test test/qa-small-coupon.test.js).',
        areas: ['src/coupon.js'],
      },
    ]);
  });

  it('refuses a test that fails for another reason, and a flaky one, and proves the corrected claim of the same title', async () => {
    const agent = setUp({
      'qa.probe:src/coupon.js.turn-1': turn(
        'Probing.',
        call('w1', 'write_file', { path: 'test/qa-typo.test.js', content: WRONG_REASON_TEST }),
        call('w2', 'write_file', { path: 'test/qa-flaky.test.js', content: FLAKY_TEST }),
        finding('f1', 'test/qa-typo.test.js'),
        finding('f2', 'test/qa-flaky.test.js'),
      ),
      'qa.probe:src/coupon.js.turn-2': async (request: ConversationRequest) => {
        const { f1, f2 } = resultsOf(request);
        if (!f1!.isError || !f1!.content.startsWith('Not proven: The test did not fail with RangeError.\n')) throw new Error(`the wrong failure was not refused: ${f1!.content}`);
        if (!f2!.isError || !f2!.content.startsWith('Not proven: the failure is flaky: run 2 passed.')) throw new Error(`the flaky test was not refused: ${f2!.content}`);
        // The gate ran on a clean checkout: the flip file it made is gone, and the agent's tests are back.
        const workspace = await agent.sandbox.exec(`${agent.missionWorkflowId}-qa`.replace(/[^A-Za-z0-9._-]/g, '_'), 'if test -e qa-flip; then echo FLIP-LEFT; fi; ls test/', { timeoutMs: 10_000 });
        if (workspace.outputTail.includes('FLIP-LEFT') || !workspace.outputTail.includes('qa-typo.test.js') || !workspace.outputTail.includes('qa-flaky.test.js')) throw new Error(`the workspace was not restored: ${workspace.outputTail}`);
        return turn('Rewriting the typo test.', call('w3', 'write_file', { path: 'test/qa-typo.test.js', content: PROVING_TEST }), finding('f3', 'test/qa-typo.test.js'));
      },
      'qa.probe:src/coupon.js.turn-3': turn('Done.', call('d1', 'finish', { summary: 'proved one' })),
    });
    const outcome = await agent.run();
    // One title, refused twice and proven at last: a finding, and no lead for it.
    expect(outcome.findings.map((f) => [f.testPath, f.failingRuns, f.testSource])).toEqual([['test/qa-typo.test.js', 2, PROVING_TEST]]);
    expect(outcome.leads).toEqual([]);
    expect(outcome.testsWritten).toEqual(['test/qa-typo.test.js', 'test/qa-flaky.test.js']);
  });

  it("refuses to overwrite the repository's files, protected paths and paths outside it, and a finding on a test it did not write", async () => {
    const agent = setUp({
      'qa.probe:src/coupon.js.turn-1': turn(
        'Trying.',
        call('o1', 'write_file', { path: 'src/coupon.js', content: 'module.exports = {};' }),
        call('o2', 'write_file', { path: './test//coupon.test.js', content: 'x' }),
        call('o3', 'write_file', { path: '.github/workflows/ci.yml', content: 'x' }),
        call('o4', 'write_file', { path: '../escape.js', content: 'x' }),
        call('e1', 'edit_file', { path: 'src/coupon.js', oldText: 'fixed', newText: 'fixd' }),
        finding('f1', 'test/coupon.test.js'),
      ),
      'qa.probe:src/coupon.js.turn-2': async (request: ConversationRequest) => {
        const r = resultsOf(request);
        const expectRefused = (id: string, start: string) => {
          if (!r[id]!.isError || !r[id]!.content.startsWith(start)) throw new Error(`${id} was not refused as expected: ${r[id]!.content}`);
        };
        expectRefused('o1', 'src/coupon.js already exists in the repository; nightly QA only creates new files.');
        expectRefused('o2', './test//coupon.test.js already exists in the repository');
        expectRefused('o3', '.github/workflows/ci.yml is CI configuration (GitHub Actions workflow): nightly QA never writes it');
        expectRefused('o4', '../escape.js is outside the repository');
        expectRefused('e1', 'There is no tool named "edit_file" here.');
        expectRefused('f1', 'Not proven: test/coupon.test.js is not a test you wrote in this mission (you wrote: nothing yet).');
        const sandboxId = `${agent.missionWorkflowId}-qa`.replace(/[^A-Za-z0-9._-]/g, '_');
        if ((await agent.sandbox.readFile(sandboxId, 'src/coupon.js')) !== COUPON) throw new Error('src/coupon.js was changed');
        if ((await agent.sandbox.diff(sandboxId)).trim() !== '') throw new Error('the workspace changed');
        return turn('Done.', call('d1', 'finish', { summary: 'nothing' }));
      },
    });
    const outcome = await agent.run();
    expect(outcome).toMatchObject({ endedBecause: 'finished', testsWritten: [], findings: [] });
    expect(fs.existsSync(path.join(root, 'escape.js'))).toBe(false);
    expect(fs.readFileSync(path.join(repository, 'src', 'coupon.js'), 'utf8')).toBe(COUPON);
  });

  it('stops at the turn limit, warning the agent the turn before', async () => {
    const agent = setUp(
      {
        'qa.probe:src/coupon.js.turn-1': turn('Reading.', call('r1', 'read_file', { path: 'src/coupon.js' })),
        'qa.probe:src/coupon.js.turn-2': (request: ConversationRequest) => {
          if (!resultsOf(request).r1!.content.endsWith('(Your next turn is your last: report what you have proven or suspect, then finish.)')) throw new Error('no warning of the last turn');
          return turn('Listing.', call('l1', 'list_files', { path: 'src' }));
        },
      },
      { mission: { maxTurns: 2 } },
    );
    const outcome = await agent.run();
    expect(outcome).toMatchObject({ endedBecause: 'turn-limit', turns: 2, filesRead: ['src/coupon.js'] });
    expect(agent.model.stepsAsked()).toEqual(['qa.probe:src/coupon.js.turn-1', 'qa.probe:src/coupon.js.turn-2']);
  });

  it("stops when the mission's model cost reaches its budget, asking for no further turn", async () => {
    // At $1,000 a million tokens, the first turn's few hundred tokens cost more than the $0.10 budget.
    const agent = setUp(
      {
        'qa.probe:src/coupon.js.turn-1': turn('Reading.', call('r1', 'read_file', { path: 'src/coupon.js' })),
        'qa.probe:src/coupon.js.turn-2': turn('Reading again.', call('r2', 'read_file', { path: 'src/coupon.js' })),
      },
      { mission: { budgetUsd: 0.1 }, pricePerMTok: 1_000 },
    );
    const outcome = await agent.run();
    expect(outcome).toMatchObject({ endedBecause: 'budget-spent', turns: 1, filesRead: ['src/coupon.js'] });
    expect(agent.model.stepsAsked()).toEqual(['qa.probe:src/coupon.js.turn-1']);
    expect(outcome.costUsd).toBeGreaterThanOrEqual(0.1);
    expect(outcome.costUsd).toBeCloseTo((await agent.ledger.incidentSpend(agent.missionWorkflowId)).costUsd, 12);
  });

  it('on a retry replays the stored turns: asks for none already answered, restores its tests, and neither loses nor doubles a finding', async () => {
    const missionWorkflowId = `nightly-qa-${SERVICE}-retried/mission-probe`;
    const conversations = new InMemoryAgentConversations();
    const ledger = new InMemoryIncidentLedger();
    const script: Record<string, unknown> = {
      'qa.probe:src/coupon.js.turn-1': turn('Reading.', call('r1', 'read_file', { path: 'src/coupon.js' }), call('w1', 'write_file', { path: 'test/qa-fixed.test.js', content: PROVING_TEST })),
      'qa.probe:src/coupon.js.turn-2': turn('Reporting.', finding('f1', 'test/qa-fixed.test.js')),
      'qa.probe:src/coupon.js.turn-3': turn('A second probe.', call('w2', 'write_file', { path: 'test/qa-percent.test.js', content: SECOND_PROVING_TEST }), call('l1', 'report_lead', { title: 'Rounding', detail: 'Half cents round up.' })),
    };
    // The first try dies asking for turn 4 (the model has no answer: a timeout, say).
    const crashed = setUp(script, { missionWorkflowId, conversations, ledger });
    await expect(crashed.run()).rejects.toMatchObject({ type: ERROR_TYPES.modelRecordingMissing });
    expect(crashed.model.stepsAsked()).toEqual([1, 2, 3, 4].map((n) => `qa.probe:src/coupon.js.turn-${n}`));
    expect(crashed.sandbox.destroyed).toHaveLength(1);

    const second = {
      title: 'A percent coupon over 100% makes the total negative',
      detail: 'No cap on percent.',
      testPath: 'test/qa-percent.test.js',
      command: COMMAND('test/qa-percent.test.js'),
      expectedFailure: 'RangeError: total went negative: -250',
    };
    const retried = setUp(
      {
        ...script,
        // The second test was written by the first try: it is back in the fresh sandbox, and counts as the mission's.
        'qa.probe:src/coupon.js.turn-4': turn('Reporting the second.', call('f2', 'report_finding', second)),
        'qa.probe:src/coupon.js.turn-5': turn('Done.', call('d1', 'finish', { summary: 'two findings' })),
      },
      { missionWorkflowId, conversations, ledger },
    );
    const outcome = await retried.run();
    expect(retried.model.stepsAsked()).toEqual(['qa.probe:src/coupon.js.turn-4', 'qa.probe:src/coupon.js.turn-5']);
    expect(outcome).toMatchObject({
      endedBecause: 'finished',
      turns: 5,
      filesRead: ['src/coupon.js'],
      testsWritten: ['test/qa-fixed.test.js', 'test/qa-percent.test.js'],
      leads: [{ missionId: 'probe:src/coupon.js', title: 'Rounding', detail: 'Half cents round up.', areas: ['src/coupon.js'] }],
    });
    expect(outcome.findings.map((f) => [f.testPath, f.testSource, f.failingRuns])).toEqual([
      ['test/qa-fixed.test.js', PROVING_TEST, 2],
      ['test/qa-percent.test.js', SECOND_PROVING_TEST, 2],
    ]);
    // Paid once per turn across both tries: five calls.
    expect((await ledger.incidentSpend(missionWorkflowId)).calls).toBe(5);

    // A third run of the finished conversation asks the model nothing and comes to the same outcome.
    const again = setUp({}, { missionWorkflowId, conversations, ledger });
    expect(await again.run()).toEqual(outcome);
    expect(again.model.stepsAsked()).toEqual([]);
  });

  it('honours cancellation: the running command is killed, its result is not stored, and the sandbox goes', async () => {
    const env = activityEnvironment();
    const agent = setUp({
      'qa.probe:src/coupon.js.turn-1': turn('A long probe.', call('c1', 'run_command', { command: 'sleep 30', timeoutSeconds: 60 })),
    });
    const activities = createQaMissionActivities({ model: new MeteredModel(agent.model, agent.ledger, {}, null), sandbox: agent.sandbox, conversations: agent.conversations, ledger: agent.ledger, services });
    const started = Date.now();
    const running = runActivity(env, activities.runQaMission, agent.input);
    setTimeout(() => env.cancel(), 1_500);
    await expect(running).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(20_000);
    // The turn's answer was stored; the killed command's result was not, so a retry runs it again.
    expect((await agent.conversations.load({ incidentId: agent.missionWorkflowId, attempt: 1 })).map((m) => m.seq)).toEqual([0, 1]);
    expect(agent.sandbox.destroyed).toHaveLength(1);
  });

  it('refuses a mission it cannot run, by type, before opening a sandbox', async () => {
    const agent = setUp({});
    const bad = { ...agent.input, mission: { ...agent.input.mission, maxTurns: 0 } };
    const activities = createQaMissionActivities({ model: agent.model, sandbox: agent.sandbox, conversations: agent.conversations, ledger: agent.ledger, services });
    await expect(runActivity(activityEnvironment(), activities.runQaMission, bad)).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput });
    // A merge commit goes into the prompt as a command: anything but hex is refused, not run.
    const injected = { ...agent.input, mission: { ...agent.input.mission, kind: 'stress-merged-prs' as const, pullRequests: [1], mergeCommits: ['abc1234; curl evil.example'] } };
    await expect(runActivity(activityEnvironment(), activities.runQaMission, injected)).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput });
    await expect(runActivity(activityEnvironment(), activities.runQaMission, { ...agent.input, service: 'nowhere' })).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
    expect(agent.sandbox.destroyed).toEqual([]);
  });
});
