import type { ServicesConfig } from '../../domain/service-config';
import { ERROR_TYPES } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import type { Reproduction } from '../../domain/incident';
import type { ConversationTurn } from '../../ports/model.port';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { InMemoryAgentConversations } from '../../test/fakes/in-memory-agent-conversations';
import { InMemoryIncidentLedger } from '../../test/fakes/in-memory-ledger';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { activityEnvironment, reproducedDemoIncident, runActivity, type ReproducedDemoIncident } from '../../test/support/reproduced-demo-incident';
import type { SuiteRun } from '../reproduce/reproduce.activities';
import { createFixAgentActivities } from './fix-agent.activities';

const demoSteps = demoTranscriptSteps();
/** The demo transcript's turns of one attempt, keyed by step, as the scripted model serves them. */
function demoTurns(attempt: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(demoSteps).filter(([step]) => step.startsWith(`fix.attempt-${attempt}.turn-`)));
}
const turn = (text: string, ...toolCalls: ConversationTurn['toolCalls']) => ({ text, toolCalls });

describe('fix agent activities (process sandbox over the demo repository)', () => {
  let incident: ReproducedDemoIncident;
  let sandboxRoot: string;
  let revision: string;
  let services: ServicesConfig;
  let alert: NormalizedAlert;
  let reproduction: Reproduction;
  let baseline: SuiteRun;
  let triage: ReproducedDemoIncident['triage'];
  let nextIncident = 0;

  beforeAll(async () => {
    incident = await reproducedDemoIncident('fix-agent');
    ({ sandboxRoot, revision, services, alert, reproduction, baseline, triage } = incident);
  });

  afterAll(() => incident.cleanUp());

  function setUp(script: Record<string, unknown>, options: { tokenBudget?: number | null; attempt?: number } = {}) {
    const incidentId = `incident-4401001-agent-${++nextIncident}`;
    const attempt = options.attempt ?? 2;
    const sandbox = new ProcessSandbox({ root: sandboxRoot });
    const model = new ScriptedModel(script);
    const conversations = new InMemoryAgentConversations();
    const ledger = new InMemoryIncidentLedger();
    const activities = createFixAgentActivities({
      model,
      sandbox,
      conversations,
      ledger,
      services,
      limits: { commandTimeoutMs: 60_000, tokenBudgetPerIncident: options.tokenBudget ?? null },
    });
    const env = activityEnvironment();
    const key = { incidentId, attempt };
    const begin = () => runActivity(env, activities.beginFixAttempt, { incidentId, attempt, alert, triage, revision, reproduction, maxTurns: 8, previousAttempts: [{ attempt: 1, failureReason: 'the suite regressed' }] });
    const ask = (n: number) => runActivity(env, activities.fixAgentTurn, { incidentId, attempt, turn: n });
    const tools = (n: number) => runActivity(env, activities.runFixAgentTools, { incidentId, attempt, turn: n, alert, revision, reproduction });
    const verify = (summary: string) => runActivity(env, activities.verifyFixAttempt, { incidentId, attempt, alert, revision, reproduction, baseline, summary });
    /** Drives the loop the way the workflow does, turn by turn, until the agent finishes. */
    const runToFinish = async (maxTurns = 8) => {
      await begin();
      for (let n = 1; n <= maxTurns; n += 1) {
        const answer = await ask(n);
        if (answer.toolNames.length > 0) await tools(n);
        if (answer.finished) return { answer, turns: n };
      }
      throw new Error('the agent did not finish');
    };
    return { incidentId, attempt, sandbox, model, conversations, ledger, key, begin, ask, tools, verify, runToFinish };
  }

  it("runs the demo transcript's second attempt with real tools, and the change it leaves verifies", async () => {
    const agent = setUp(demoTurns(2));
    const { answer, turns } = await agent.runToFinish();
    expect(turns).toBe(4);
    expect(answer.summary).toBe('Treat a missing coupon as no discount in discountCents, keeping rounding to the nearest cent.');

    const stored = await agent.conversations.load(agent.key);
    expect(stored.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // The tools ran for real: read_file answered the file with line numbers, grep found the rounding test, npm test passed.
    const results = stored.flatMap((m) => (m.message.role === 'tool_results' ? m.message.results : []));
    expect(results.find((r) => r.toolCallId === 'toolu_a2t1_read')!.content).toMatch(/^\s+9 {2}function discountCents\(subtotal, coupon\) \{$/m);
    expect(results.find((r) => r.toolCallId === 'toolu_a2t1_grep')!.content).toContain('nearest cent');
    expect(results.filter((r) => r.toolCallId.startsWith('toolu_a2t2_edit')).map((r) => r.isError)).toEqual([false, false]);
    expect(results.find((r) => r.toolCallId === 'toolu_a2t3_run')!.content).toMatch(/exit 0/);

    const outcome = await agent.verify(answer.summary!);
    expect(outcome).toMatchObject({ verified: true, failureReason: null, diffStat: '2 files changed, +13 -1' });
    expect(outcome.diff).toContain('+  if (coupon === undefined || coupon === null) return 0;');
    // The second turn saw the first turn's tool results, in the provider-neutral conversation.
    expect(agent.model.conversations[1]!.messages.at(-1)).toMatchObject({ role: 'tool_results', results: [{ toolCallId: 'toolu_a2t1_read', isError: false }, { toolCallId: 'toolu_a2t1_grep' }] });
  });

  it("rejects the first attempt's change, whose rounding breaks a test the baseline passed", async () => {
    const agent = setUp(demoTurns(1), { attempt: 1 });
    const { answer } = await agent.runToFinish();
    const outcome = await agent.verify(answer.summary!);
    expect(outcome.verified).toBe(false);
    expect(outcome.failureReason).toMatch(/^the suite regressed: .*discount rounds to the nearest cent/);
  });

  it('tells a flaky test from a regression by re-running the suite, and reports it without blocking the fix', async () => {
    const guard = (demoTurns(2)['fix.attempt-2.turn-2'] as { toolCalls: ConversationTurn['toolCalls'] }).toolCalls;
    const flakyTest = [
      "const { test } = require('node:test');",
      "const fs = require('node:fs');",
      "const path = require('node:path');",
      "test('warms a cache, failing on a cold start', () => {",
      "  const marker = path.join(process.env.TMPDIR, 'cache-warm');",
      '  const cold = !fs.existsSync(marker);',
      "  fs.writeFileSync(marker, '');",
      "  if (cold) throw new Error('cold cache');",
      '});',
      '',
    ].join('\n');
    const agent = setUp({
      'fix.attempt-2.turn-1': turn('guarding, and adding a test of my own', ...guard, { id: 'w', name: 'write_file', input: { path: 'test/cache.test.js', content: flakyTest } }),
      'fix.attempt-2.turn-2': turn('done', { id: 'f', name: 'finish', input: { summary: 'guard the coupon' } }),
    });
    const { answer } = await agent.runToFinish();
    const outcome = await agent.verify(answer.summary!);

    expect(outcome).toMatchObject({ verified: true, flakyTests: ['warms a cache, failing on a cold start'] });
    expect(outcome.suiteExplanation).toContain('Flaky (failed in some of 2 runs, passed in others): warms a cache, failing on a cold start');
    // Two runs of the reproduction, then the suite until a run has no new failure: every one kept as evidence.
    expect(outcome.runs.map((r) => [r.phase, r.evidence.exitCode])).toEqual([
      ['reproduction-after', 0],
      ['reproduction-after', 0],
      ['suite-after', 1],
      ['suite-after', 0],
    ]);
  });

  it('answers a retried turn from the store without asking the model again', async () => {
    const agent = setUp(demoTurns(2));
    await agent.begin();
    const first = await agent.ask(1);
    const retried = await agent.ask(1);
    expect(agent.model.conversations).toHaveLength(1);
    expect(first.answeredFromStore).toBe(false);
    expect(retried).toMatchObject({ answeredFromStore: true, toolNames: first.toolNames });
  });

  it('runs a round of tools once: a retry returns what was stored', async () => {
    const agent = setUp({ 'fix.attempt-2.turn-1': turn('appending', { id: 'w1', name: 'run_command', input: { command: 'echo once >> ran.txt' } }) });
    await agent.begin();
    await agent.ask(1);
    await agent.tools(1);
    await agent.tools(1);
    const ran = await agent.sandbox.exec(agent.incidentId.replace(/[^A-Za-z0-9._-]/g, '_'), 'cat ran.txt', { timeoutMs: 10_000 });
    // The restore at the start of the second try would have rebuilt the file from the stored diff, then appended again.
    expect(ran.outputTail.trim()).toBe('once');
  });

  it('rebuilds a lost sandbox from the stored change and carries on', async () => {
    const agent = setUp(demoTurns(2));
    await agent.begin();
    for (const n of [1, 2]) {
      await agent.ask(n);
      await agent.tools(n);
    }
    // The worker holding the sandbox is gone, and its workspace with it.
    await agent.sandbox.destroy(agent.incidentId.replace(/[^A-Za-z0-9._-]/g, '_'));
    await agent.ask(3);
    const round = await agent.tools(3);
    expect(round.tools).toEqual([expect.objectContaining({ name: 'run_command', isError: false, summary: expect.stringMatching(/npm test: exit 0$/) })]);
    const { summary } = await agent.ask(4);
    await expect(agent.verify(summary!)).resolves.toMatchObject({ verified: true });
  });

  it('stops before asking the model once the incident has spent its token budget', async () => {
    const agent = setUp(demoTurns(2), { tokenBudget: 1_000 });
    await agent.ledger.recordModelUsage({ incidentId: agent.incidentId, step: 'triage', provider: 'test', model: 'test', inputTokens: 900, outputTokens: 100, costUsd: null });
    await agent.begin();
    await expect(agent.ask(1)).resolves.toMatchObject({ stoppedBy: 'token_budget', tokensSpent: 1_000, finished: false });
    expect(agent.model.conversations).toHaveLength(0);
  });

  it('refuses to skip ahead: a turn whose earlier positions are missing fails as out of step', async () => {
    const agent = setUp(demoTurns(2));
    await agent.begin();
    await expect(agent.ask(2)).rejects.toMatchObject({ type: ERROR_TYPES.agentConversationOutOfStep, nonRetryable: true });
  });

  it("refuses edits of the reproduction test, and verification runs the test as reproduced whatever a command did to it", async () => {
    const agent = setUp({
      'fix.attempt-2.turn-1': turn(
        'making the test pass the easy way',
        { id: 'e1', name: 'edit_file', input: { path: `./${reproduction.testPath}`, oldText: 'assert', newText: '// assert' } },
        { id: 'e2', name: 'write_file', input: { path: reproduction.testPath, content: '' } },
        { id: 'e3', name: 'run_command', input: { command: `printf "require('node:test').test('ok', () => {});" > ${reproduction.testPath}` } },
      ),
      'fix.attempt-2.turn-2': turn('done', { id: 'f', name: 'finish', input: { summary: 'nothing to fix' } }),
    });
    await agent.begin();
    await agent.ask(1);
    const round = await agent.tools(1);
    expect(round.tools.map((t) => t.isError)).toEqual([true, true, false]);
    const stored = await agent.conversations.load(agent.key);
    const results = stored.find((m) => m.seq === 2)!.message;
    expect(results).toMatchObject({ role: 'tool_results', results: [{ content: expect.stringContaining('is the reproduction test') }, {}, {}] });
    const outcome = await agent.verify('nothing to fix');
    expect(outcome.verified).toBe(false);
    expect(outcome.failureReason).toMatch(/^the reproduction still fails/);
  });

  it("answers the model's mistakes with error results it can act on, and runs nothing for them", async () => {
    const agent = setUp({
      'fix.attempt-2.turn-1': turn(
        'trying things',
        { id: 'm1', name: 'delete_everything', input: {} },
        { id: 'm2', name: 'read_file', input: '{"path": "src/pricing.js"' },
        { id: 'm3', name: 'read_file', input: { path: 'src/missing.js' } },
        { id: 'm4', name: 'read_file', input: { path: '../../../etc/passwd' } },
        { id: 'm5', name: 'edit_file', input: { path: 'src/pricing.js', oldText: 'subtotal', newText: 'total' } },
        { id: 'm6', name: 'grep', input: { pattern: "'; touch pwned; echo '", path: '.' } },
        { id: 'm7', name: 'run_command', input: { command: 'sleep 5', timeoutSeconds: 1 } },
      ),
    });
    await agent.begin();
    await agent.ask(1);
    await agent.tools(1);
    const stored = await agent.conversations.load(agent.key);
    const results = (stored.find((m) => m.seq === 2)!.message as { results: { toolCallId: string; content: string; isError: boolean }[] }).results;
    const byId = Object.fromEntries(results.map((r) => [r.toolCallId, r]));
    expect(byId.m1).toMatchObject({ isError: true, content: expect.stringContaining('There is no tool named "delete_everything"') });
    expect(byId.m2).toMatchObject({ isError: true, content: expect.stringContaining('not a JSON object') });
    expect(byId.m3).toMatchObject({ isError: true, content: 'No such file: src/missing.js. Use list_files to see what exists.' });
    expect(byId.m4).toMatchObject({ isError: true, content: expect.stringContaining('refusing path') });
    expect(byId.m5).toMatchObject({ isError: true, content: expect.stringMatching(/occurs \d+ times/) });
    // The pattern reached git grep as one quoted word: no file was created by it.
    expect(byId.m6).toMatchObject({ isError: false, content: expect.stringContaining('no match') });
    expect(byId.m7).toMatchObject({ isError: false, content: expect.stringContaining('killed after 1000 ms') });
    const pwned = await agent.sandbox.exec(agent.incidentId.replace(/[^A-Za-z0-9._-]/g, '_'), 'test -e pwned && echo present || echo absent', { timeoutMs: 10_000 });
    expect(pwned.outputTail.trim()).toBe('absent');
  });

  it('briefs the agent with the alert fenced as untrusted, and offers it exactly its tools', async () => {
    const agent = setUp(demoTurns(2));
    await agent.begin();
    await agent.ask(1);
    const [conversation] = agent.model.conversations;
    const task = conversation!.messages[0] as { role: 'user'; content: string };
    expect(task.content).toContain(`<untrusted source="datadog-alert-message">`);
    expect(task.content).toContain('Attempt 1 was rejected: the suite regressed');
    // The failing reproduction, and what it printed at the deployed revision.
    expect(task.content).toContain(reproduction.testContent);
    expect(task.content).toContain("Cannot read properties of undefined (reading 'percent')");
    expect(conversation!.system).toMatch(/never instructions/);
    expect(conversation!.tools.map((t) => t.name)).toEqual(['read_file', 'list_files', 'grep', 'edit_file', 'write_file', 'run_command', 'finish']);
    expect(conversation!.tools.find((t) => t.name === 'edit_file')!.inputSchema).toMatchObject({ type: 'object', required: ['path', 'oldText', 'newText'] });
  });
});
