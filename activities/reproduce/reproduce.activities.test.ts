import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { demoServicesConfig, type ServicesConfig } from '../../config/config';
import { ERROR_TYPES } from '../../contracts';
import { normalizeDatadogPayload, type NormalizedAlert } from '../../domain/alert';
import { TriageResult, triageOfBuildFailure } from '../../domain/triage';
import { BROKEN_BUILD_BRANCH, commitBrokenBuild, demoAlertPayload, demoDiff, ensureDemoRepository } from '../../infra/demo-fixtures';
import { alertFromBuildFailure } from '../../domain/build-failure';
import type { DeployEvent } from '../../domain/deploy';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { InMemoryCodeHost } from '../../test/fakes/in-memory-code-host';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { sandboxIdFor } from '../shared/sandbox-session';
import { createReproduceActivities, type ReproduceLimits, type SuiteRun } from './reproduce.activities';

/** True while the process runs; a zombie waiting to be reaped by init has already been killed. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs an activity in the mocked activity context; `MockActivityEnvironment.run` loses the result type, so it is restored here. */
function runActivity<A extends unknown[], R>(env: MockActivityEnvironment, activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(activity, ...args) as Promise<R>;
}

/** Activities that fail on purpose would otherwise print their failure as a warning. */
function activityEnvironment(heartbeatDetails?: unknown): MockActivityEnvironment {
  return new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails }, { logger: new DefaultLogger('ERROR') });
}

const demoSteps = demoTranscriptSteps();
const demoReproduction = demoSteps['reproduce.try-1'] as { testPath: string; content: string; explanation: string };
const triage = TriageResult.parse(demoSteps.triage);

const passingTest = {
  testPath: 'test/steward-passes.test.js',
  content: [
    "const { test } = require('node:test');",
    "const assert = require('node:assert/strict');",
    "const { handleCheckout } = require('../src/server');",
    "test('an order with a coupon is priced', () => {",
    "  const price = handleCheckout({ items: [{ sku: 'MUG', unitPriceCents: 6000, quantity: 1 }], couponCode: 'SPRING25' });",
    '  assert.equal(price.total, 4999);',
    '});',
    '',
  ].join('\n'),
  explanation: 'checks a coupon order',
};

const wrongReasonTest = {
  testPath: 'test/steward-wrong-reason.test.js',
  content: "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\ntest('fails', () => {\n  assert.equal(1, 2);\n});\n",
  explanation: 'fails, but not for the alert',
};

describe('reproduce activities (process sandbox over the demo repository)', () => {
  let scratch: string;
  let sandboxRoot: string;
  let repositoryPath: string;
  let revision: string;
  let services: ServicesConfig;
  let alert: NormalizedAlert;
  let nextIncident = 0;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'reproduce-activities-'));
    services = demoServicesConfig(scratch);
    repositoryPath = services['checkout-service']!.repository;
    revision = ensureDemoRepository(repositoryPath);
    sandboxRoot = path.join(scratch, 'sandboxes');
    alert = normalizeDatadogPayload(demoAlertPayload({ alertCycleKey: 'reproduce-test', deployedRevision: revision }));
  });

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  function setUp(options: { model?: ScriptedModel; limits?: Partial<ReproduceLimits> } = {}) {
    const incidentId = `incident-4401001-reproduce-${++nextIncident}`;
    const sandbox = new ProcessSandbox({ root: sandboxRoot });
    // Calls through: the real sandbox runs every command, the spy only writes them down.
    const exec = jest.spyOn(sandbox, 'exec');
    const commandsRun = (): string[] => exec.mock.calls.map(([, command]) => command);
    const model = options.model ?? ScriptedModel.fromDemoTranscript();
    const codeHost = new InMemoryCodeHost({ repositories: { [repositoryPath]: { main: revision } } });
    const activities = createReproduceActivities({ model, sandbox, codeHost, services, limits: options.limits });
    const workspace = path.join(sandboxRoot, sandboxIdFor(incidentId));
    return { incidentId, commandsRun, model, activities, workspace, input: { incidentId, alert, triage } };
  }

  it("reproduces the demo incident with the transcript's test, against a passing baseline", async () => {
    const { activities, input, model, workspace } = setUp();
    const env = activityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));

    const outcome = await runActivity(env, activities.reproduceIncident, input);

    expect(outcome).toMatchObject({ service: 'checkout-service', revision, sandboxId: sandboxIdFor(input.incidentId), refusedTries: [] });
    expect(outcome.baseline.outcome).toEqual({ exitCode: 0, timedOut: false, failingTests: [], passedCount: 11 });
    const reproduction = outcome.reproduction!;
    expect(reproduction).toMatchObject({
      testPath: demoReproduction.testPath,
      testContent: demoReproduction.content,
      command: `node --test --test-reporter=tap ${demoReproduction.testPath}`,
    });
    expect(reproduction.before.exitCode).not.toBe(0);
    expect(reproduction.before.outputTail).toContain("Cannot read properties of undefined (reading 'percent')");
    expect(reproduction.match).toMatch(/^The test fails with TypeError/);
    // The suspected files were read from the checkout and shown to the model.
    expect(model.lastRequest('reproduce.try-1').prompt).toContain('--- src/pricing.js\n\'use strict\';');
    // A retry resumes from the last heartbeat, so it must carry the baseline.
    expect(heartbeats.at(-1)).toMatchObject({ phase: 'reproducing', revision, baseline: outcome.baseline });
    // The workspace is left clean for the fix attempts.
    expect(fs.existsSync(path.join(workspace, demoReproduction.testPath))).toBe(false);
  });

  it('refuses a test that passes at the revision and asks for a second try, showing why', async () => {
    const model = new ScriptedModel({ 'reproduce.try-1': passingTest, 'reproduce.try-2': demoReproduction });
    const { activities, input } = setUp({ model });

    const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

    expect(outcome.refusedTries).toHaveLength(1);
    expect(outcome.refusedTries[0]).toMatchObject({
      testPath: passingTest.testPath,
      verdict: 'the test passes at the deployed revision, so it reproduces nothing',
      evidence: { exitCode: 0 },
    });
    expect(outcome.reproduction?.testPath).toBe(demoReproduction.testPath);
    expect(model.stepsAsked()).toEqual(['reproduce.try-1', 'reproduce.try-2']);
    expect(model.lastRequest('reproduce.try-2').prompt).toContain(
      `Try 1 (${passingTest.testPath}) was refused: the test passes at the deployed revision, so it reproduces nothing`,
    );
  });

  it('refuses a test that fails for another reason than the alert, and explains it', async () => {
    const { activities, input } = setUp({ model: new ScriptedModel({ 'reproduce.try-1': wrongReasonTest }), limits: { maxTries: 1 } });

    const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

    expect(outcome.reproduction).toBeNull();
    expect(outcome.refusedTries).toEqual([
      {
        testPath: wrongReasonTest.testPath,
        verdict: 'The test did not fail with TypeError.',
        evidence: expect.objectContaining({ exitCode: 1, outputTail: expect.stringContaining('AssertionError') }),
      },
    ]);
  });

  it('refuses, without running them, tests outside the reproduction folder or over an existing file', async () => {
    const escaping = { ...demoReproduction, testPath: '../escape.test.js' };
    const outsideFolder = { ...demoReproduction, testPath: 'src/steward-reproduction.test.js' };
    const overwriting = { ...demoReproduction, testPath: 'test/pricing.test.js' };
    const model = new ScriptedModel({ 'reproduce.try-1': escaping, 'reproduce.try-2': outsideFolder, 'reproduce.try-3': overwriting });
    const { activities, input, commandsRun, workspace } = setUp({ model, limits: { maxTries: 3 } });

    const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

    expect(outcome.reproduction).toBeNull();
    expect(outcome.refusedTries.map((t) => t.verdict)).toEqual([
      'the path ../escape.test.js leaves the repository',
      'the test must be written under test/, not at src/steward-reproduction.test.js',
      'test/pricing.test.js already exists; a reproduction must be a new file',
    ]);
    expect(commandsRun()).toEqual([services['checkout-service']!.testCommand]);
    expect(fs.existsSync(path.join(sandboxRoot, 'escape.test.js'))).toBe(false);
    expect(fs.existsSync(path.join(workspace, 'src', 'steward-reproduction.test.js'))).toBe(false);
    expect(fs.readFileSync(path.join(workspace, 'test', 'pricing.test.js'), 'utf8')).toBe(
      fs.readFileSync(path.join(repositoryPath, 'test', 'pricing.test.js'), 'utf8'),
    );
  });

  it('fails with ServiceNotConfigured, non-retryable, for a service without a repository', async () => {
    const { activities, input, commandsRun } = setUp();

    for (const service of ['billing-service', null]) {
      await expect(runActivity(activityEnvironment(), activities.reproduceIncident, { ...input, alert: { ...alert, service } })).rejects.toMatchObject({
        type: ERROR_TYPES.serviceNotConfigured,
        nonRetryable: true,
      });
    }
    expect(commandsRun()).toEqual([]);
  });

  it('keeps heartbeating while the sandbox takes long to open, as a clone and an install do', async () => {
    const { incidentId, input, model } = setUp();
    const sandbox = new ProcessSandbox({ root: sandboxRoot });
    const open = sandbox.open.bind(sandbox);
    // Longer than one heartbeat interval (5 s): without heartbeats meanwhile, a timeout this short would end the activity.
    jest.spyOn(sandbox, 'open').mockImplementation(async (spec) => {
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      return open(spec);
    });
    const activities = createReproduceActivities({ model, sandbox, codeHost: new InMemoryCodeHost({ repositories: { [repositoryPath]: { main: revision } } }), services });
    const env = activityEnvironment();
    const openingBeats: number[] = [];
    const startedAt = Date.now();
    env.on('heartbeat', (details: { phase?: string }) => {
      if (details.phase === 'opening') openingBeats.push(Date.now() - startedAt);
    });

    const outcome = await runActivity(env, activities.reproduceIncident, { ...input, incidentId });

    expect(outcome.reproduction).not.toBeNull();
    expect(openingBeats.length).toBeGreaterThanOrEqual(2);
    expect(openingBeats.at(-1)!).toBeGreaterThanOrEqual(4_500);
  });

  it('resumes from its heartbeat: the baseline is not run again', async () => {
    const { activities, input, commandsRun } = setUp();
    const baseline: SuiteRun = {
      outcome: { exitCode: 0, timedOut: false, failingTests: [], passedCount: 11 },
      evidence: { command: 'node --test --test-reporter=tap test/', exitCode: 0, timedOut: false, durationMs: 900, outputTail: 'run by the attempt that crashed' },
    };
    const env = activityEnvironment({ phase: 'reproducing', revision, baseline });

    const outcome = await runActivity(env, activities.reproduceIncident, input);

    expect(outcome.baseline).toEqual(baseline);
    expect(outcome.reproduction).not.toBeNull();
    // The reproduction, and its confirming run.
    expect(commandsRun()).toEqual([`node --test --test-reporter=tap ${demoReproduction.testPath}`, `node --test --test-reporter=tap ${demoReproduction.testPath}`]);
  });

  it('refuses a reproduction whose failure does not repeat, as flaky, and takes the next try', async () => {
    // Fails for the alert's reason on its first run only: a marker in the workspace's temp folder remembers.
    const flakyReproduction = {
      testPath: 'test/steward-flaky.test.js',
      content: [
        "const { test } = require('node:test');",
        "const fs = require('node:fs');",
        "const path = require('node:path');",
        "const { handleCheckout } = require('../src/server');",
        "test('an order without a coupon, once', () => {",
        "  const marker = path.join(process.env.TMPDIR, 'steward-flaky-ran');",
        '  if (fs.existsSync(marker)) return;',
        "  fs.writeFileSync(marker, '');",
        "  handleCheckout({ items: [{ sku: 'MUG', unitPriceCents: 1250, quantity: 2 }] });",
        '});',
        '',
      ].join('\n'),
      explanation: 'fails the first time only',
    };
    const model = new ScriptedModel({ 'reproduce.try-1': flakyReproduction, 'reproduce.try-2': demoReproduction });
    const { activities, input } = setUp({ model });

    const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

    expect(outcome.refusedTries).toEqual([expect.objectContaining({ testPath: flakyReproduction.testPath, verdict: 'the failure is flaky: run 2 passed' })]);
    expect(outcome.reproduction).toMatchObject({ testPath: demoReproduction.testPath });
    expect(outcome.reproduction!.runsBefore!.map((r) => r.exitCode !== 0)).toEqual([true, true]);
  });

  it('resumes after refused tries with the next try, not the first again', async () => {
    const model = new ScriptedModel({ 'reproduce.try-2': demoReproduction });
    const { activities, input } = setUp({ model });
    const refused = { testPath: passingTest.testPath, verdict: 'the test passes at the deployed revision, so it reproduces nothing', evidence: { command: 'x', exitCode: 0, timedOut: false, durationMs: 1, outputTail: '' } };
    const baseline: SuiteRun = { outcome: { exitCode: 0, timedOut: false, failingTests: [], passedCount: 11 }, evidence: { ...refused.evidence } };
    const env = activityEnvironment({ phase: 'reproducing', revision, baseline, refusedTries: [refused] });

    const outcome = await runActivity(env, activities.reproduceIncident, input);

    expect(model.stepsAsked()).toEqual(['reproduce.try-2']);
    expect(outcome.refusedTries).toEqual([refused]);
    expect(outcome.reproduction?.testPath).toBe(demoReproduction.testPath);
  });

  it('stops when cancelled: the running test is killed and the activity rejects as cancelled', async () => {
    const pidFile = 'slow-reproduction.pid';
    const slowTest = {
      testPath: 'test/steward-slow.test.js',
      content: [
        "const fs = require('node:fs');",
        "const path = require('node:path');",
        "const { test } = require('node:test');",
        "test('hangs', async () => {",
        `  fs.writeFileSync(path.join(process.env.TMPDIR, '${pidFile}'), String(process.pid));`,
        '  await new Promise((resolve) => setTimeout(resolve, 120000));',
        '});',
        '',
      ].join('\n'),
      explanation: 'never finishes',
    };
    const model = new ScriptedModel({ 'reproduce.try-1': slowTest, 'reproduce.try-2': demoReproduction });
    const { activities, input, workspace } = setUp({ model });
    const env = activityEnvironment();
    const pidPath = path.join(workspace, '.tmp', pidFile);

    const running = runActivity(env, activities.reproduceIncident, input);
    const settled = running.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await waitFor(() => fs.existsSync(pidPath) && fs.readFileSync(pidPath, 'utf8') !== '', 'the slow test to start');
    const pid = Number(fs.readFileSync(pidPath, 'utf8'));
    const startedAt = Date.now();
    env.cancel();

    expect(await settled).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    // SIGKILL is sent before the activity settles; on a loaded machine the process can take a moment to be gone.
    await waitFor(() => !isRunning(pid), 'the killed test to be gone', 5_000);
    // A killed command proves nothing about the code: no further try may be asked for.
    expect(model.stepsAsked()).toEqual(['reproduce.try-1']);
  });

  it('releases the sandbox by removing its workspace', async () => {
    const { activities, input, workspace } = setUp();
    await runActivity(activityEnvironment(), activities.reproduceIncident, input);
    expect(fs.existsSync(workspace)).toBe(true);

    await activities.releaseSandbox({ incidentId: input.incidentId });

    expect(fs.existsSync(workspace)).toBe(false);
  });

  describe('a failed build', () => {
    let broken: { revision: string; previousRevision: string };
    let buildLog: string;
    beforeAll(() => {
      broken = commitBrokenBuild(repositoryPath);
      // The deploy pipeline's log, as CI printed it from a checkout of its own.
      buildLog = `2026-11-20T10:01:02.2Z > node scripts/build.js\n2026-11-20T10:01:02.3Z build: src/pricing.js does not load\n2026-11-20T10:01:02.3Z Error: Cannot find module './shipping-rules'\n2026-11-20T10:01:02.3Z Require stack:\n2026-11-20T10:01:02.3Z - /home/runner/work/checkout-service/src/pricing.js`;
    });

    function setUpBuild(options: { services?: ServicesConfig; log?: string; revision?: string } = {}) {
      const incidentId = `incident-deploy_checkout-service-build-${++nextIncident}`;
      const sandbox = new ProcessSandbox({ root: sandboxRoot });
      const exec = jest.spyOn(sandbox, 'exec');
      // No model answer is scripted: a build is reproduced without asking one.
      const model = new ScriptedModel({});
      const codeHost = new InMemoryCodeHost({ repositories: { [repositoryPath]: { main: revision, [BROKEN_BUILD_BRANCH]: broken.revision } } });
      const activities = createReproduceActivities({ model, sandbox, codeHost, services: options.services ?? services });
      const deploy: DeployEvent = {
        service: 'checkout-service',
        revision: options.revision ?? broken.revision,
        previousRevision: broken.previousRevision,
        environment: 'production',
        deployedAt: '2026-11-20T10:02:00.000Z',
        build: { status: 'failure', log: options.log ?? buildLog, logUrl: null },
        source: 'webhook',
      };
      const buildAlert = alertFromBuildFailure(deploy, { watchId: 'deploy-watch-test', diff: demoDiff(repositoryPath, broken.previousRevision, broken.revision) });
      const input = { incidentId, alert: buildAlert, triage: triageOfBuildFailure(buildAlert.buildFailure!) };
      return { activities, model, input, commandsRun: () => exec.mock.calls.map(([, command]) => command) };
    }

    it('is reproduced by the build command failing with the log\'s error, twice, without a model', async () => {
      const { activities, input, model, commandsRun } = setUpBuild();

      const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

      expect(outcome).toMatchObject({ revision: broken.revision, refusedTries: [] });
      expect(outcome.reproduction).toMatchObject({
        testPath: null,
        testContent: null,
        command: 'node scripts/build.js',
        match: "The build fails with the build log's error: Error: Cannot find module './shipping-rules'",
      });
      expect(outcome.reproduction!.runsBefore).toHaveLength(2);
      expect(outcome.reproduction!.before.outputTail).toContain("Cannot find module './shipping-rules'");
      // The baseline suite at the broken revision fails where pricing is loaded; a fix is compared with it.
      expect(outcome.baseline.outcome.exitCode).not.toBe(0);
      expect(commandsRun()).toEqual(['node --test --test-reporter=tap test/', 'node scripts/build.js', 'node scripts/build.js']);
      expect(model.stepsAsked()).toEqual([]);
    });

    it('is not reproduced when the build fails for another reason than the log says', async () => {
      const log = "src/coupons.js:4\n  const COUPONS = {\n                  ^\nSyntaxError: Unexpected token '{'";
      const { activities, input } = setUpBuild({ log });

      const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

      expect(outcome.reproduction).toBeNull();
      expect(outcome.refusedTries).toEqual([
        expect.objectContaining({ testPath: 'node scripts/build.js', verdict: expect.stringContaining('The build fails, but not with the build log\'s error (expected "SyntaxError: Unexpected token \'{\'"') }),
      ]);
    });

    it('is not reproduced when the build passes at the revision', async () => {
      const { activities, input } = setUpBuild({ revision });

      const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

      expect(outcome.reproduction).toBeNull();
      expect(outcome.refusedTries.map((t) => [t.verdict, t.evidence.exitCode])).toEqual([[`the build passes at ${revision.slice(0, 12)}, so the failure does not reproduce here`, 0]]);
    });

    it('is not reproduced, and says why, for a service without a buildCommand', async () => {
      const withoutBuild = { 'checkout-service': { ...services['checkout-service']!, buildCommand: null } };
      const { activities, input, commandsRun } = setUpBuild({ services: withoutBuild });

      const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, input);

      expect(outcome.reproduction).toBeNull();
      expect(outcome.refusedTries.map((t) => t.verdict)).toEqual(['service checkout-service has no buildCommand in the services file, so its build cannot be run']);
      expect(commandsRun()).toEqual(['node --test --test-reporter=tap test/']);
    });
  });
  describe('a test nightly QA wrote', () => {
    const EXPECTED = "TypeError: Cannot read properties of undefined (reading 'percent')";
    // Beside the suite, so that the test's require('../src/server') finds the code.
    const QA_PATH = 'test/coupon.qa.test.js';
    const provided = (overrides: Partial<{ testPath: string; testSource: string; command: string; expectedFailure: string }> = {}) => ({
      missionId: 'mission-coupons',
      testPath: QA_PATH,
      // The demo transcript's reproduction test, standing in for one a QA mission wrote: it fails on an order without a coupon.
      testSource: demoReproduction.content,
      command: `node --test --test-reporter=tap ${overrides.testPath ?? QA_PATH}`,
      expectedFailure: EXPECTED,
      ...overrides,
    });
    // No step scripted: any model call fails, so a pass proves none was made.
    const setUpProvided = () => setUp({ model: new ScriptedModel() });

    it('runs the provided test as given, twice, and takes it as the reproduction when both runs fail for the stated reason', async () => {
      const { activities, input, commandsRun, model } = setUpProvided();
      const outcome = await runActivity(activityEnvironment(), activities.reproduceIncident, { ...input, provided: provided() });

      expect(outcome.reproduction).toMatchObject({
        testPath: QA_PATH,
        testContent: demoReproduction.content,
        command: `node --test --test-reporter=tap ${QA_PATH}`,
        match: expect.stringContaining('TypeError'),
        explanation: `Nightly QA's test (mission mission-coupons) fails at ${revision.slice(0, 12)} for the reason it found, in 2 runs out of 2.`,
      });
      expect(outcome.reproduction!.runsBefore!.map((r) => r.exitCode !== 0)).toEqual([true, true]);
      expect(commandsRun()).toEqual(['node --test --test-reporter=tap test/', `node --test --test-reporter=tap ${QA_PATH}`, `node --test --test-reporter=tap ${QA_PATH}`]);
      expect(model.stepsAsked()).toEqual([]);
    });

    it('is not reproduced when the test passes, or fails for another reason than the one stated', async () => {
      const passing = setUpProvided();
      const passed = await runActivity(activityEnvironment(), passing.activities.reproduceIncident, { ...passing.input, provided: provided({ testSource: passingTest.content }) });
      expect(passed.reproduction).toBeNull();
      expect(passed.refusedTries.map((t) => [t.verdict, t.evidence.exitCode])).toEqual([[`nightly QA's test passes at ${revision.slice(0, 12)}, so the finding does not reproduce here`, 0]]);

      const wrong = setUpProvided();
      const failedOtherwise = await runActivity(activityEnvironment(), wrong.activities.reproduceIncident, { ...wrong.input, provided: provided({ testSource: wrongReasonTest.content }) });
      expect(failedOtherwise.reproduction).toBeNull();
      expect(failedOtherwise.refusedTries.map((t) => t.verdict)).toEqual(['The test did not fail with TypeError.']);
    });

    it('refuses a test over an existing file or outside the repository without running it, and input it cannot run', async () => {
      const existing = setUpProvided();
      const over = await runActivity(activityEnvironment(), existing.activities.reproduceIncident, { ...existing.input, provided: provided({ testPath: 'test/pricing.test.js' }) });
      expect(over.refusedTries.map((t) => t.verdict)).toEqual([`test/pricing.test.js already exists at ${revision.slice(0, 12)}; nightly QA's test must be a new file`]);
      expect(existing.commandsRun()).toEqual(['node --test --test-reporter=tap test/']);

      const outside = setUpProvided();
      const escaped = await runActivity(activityEnvironment(), outside.activities.reproduceIncident, { ...outside.input, provided: provided({ testPath: '../escape.test.js' }) });
      expect(escaped.refusedTries.map((t) => t.verdict)).toEqual(['the path ../escape.test.js leaves the repository']);

      const bad = setUpProvided();
      await expect(runActivity(activityEnvironment(), bad.activities.reproduceIncident, { ...bad.input, provided: provided({ command: '' }) })).rejects.toMatchObject({
        type: ERROR_TYPES.invalidActivityInput,
        nonRetryable: true,
      });
    });
  });
});
