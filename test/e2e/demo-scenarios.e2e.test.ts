import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { Pool } from 'pg';
import { localPullRequestsOfIncidents } from '../../adapters/local-git-code-host.adapter';
import { PostgresQaLedger } from '../../adapters/postgres-qa-ledger.adapter';
import { demoServicesConfig, PROJECT_ROOT } from '../../config/config';
import { createTestDatabase } from '../support/database';

/**
 * The deploy demo's two scenarios, `npm run demo -- --scenario deploy` and `--scenario
 * build-failure` (and `--scenario nightly-qa`), run as the child processes a person would start, with CI=true so that each exits
 * once its PR is there. Each gets the run's Postgres and Temporal, but a database, data folder, API
 * port and Temporal namespace of its own. Only the lines the demo prints are asserted on: they are
 * what a regression in the scenario would change. Whichever way the demo ends, nothing it started
 * may outlive it.
 */

const SCENARIO_TIMEOUT_MS = 6 * 60_000;
/** Under the jest timeout, so that a demo that hangs fails with its own output rather than jest's bare timeout. */
const DEMO_DEADLINE_MS = SCENARIO_TIMEOUT_MS - 30_000;
/** The deploy scenario also generates monitors before the deploy and waits for the local evaluator, which counts over five minutes, to fire one. */
const DEPLOY_SCENARIO_TIMEOUT_MS = 10 * 60_000;
const DEPLOY_DEMO_DEADLINE_MS = DEPLOY_SCENARIO_TIMEOUT_MS - 30_000;
/** How long a demo asked to stop with SIGTERM gets to stop its stack before its process group is killed. */
const STOP_GRACE_MS = 15_000;
const OUTPUT_TAIL_LINES = 60;
/** What the frontend answers for a namespace its cache does not hold yet. */
const GRPC_NOT_FOUND = 5;

interface DemoExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** One demo process in a process group of its own, so that whatever it started can be stopped with it. */
class DemoProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<DemoExit>;
  private readonly child: ChildProcess;
  private timedOut = false;
  private readonly deadline: NodeJS.Timeout;

  constructor(scenario: string, env: NodeJS.ProcessEnv, deadlineMs: number) {
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', 'demo.ts'), '--scenario', scenario], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        this.lines.push(...parts);
      });
      stream.on('end', () => partial && this.lines.push(partial));
    }
    // Its own group is out of reach of a Ctrl-C at the terminal: a jest worker that exits takes it down.
    const killOnExit = (): void => signalGroup(this.child.pid!, 'SIGKILL');
    process.once('exit', killOnExit);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        process.removeListener('exit', killOnExit);
        resolve({ code, signal, timedOut: this.timedOut });
      });
    });
    this.deadline = setTimeout(() => {
      this.timedOut = true;
      void this.stop();
    }, deadlineMs);
    void this.exited.then(() => clearTimeout(this.deadline));
  }

  /** Resolves once a line matches; fails, with the output's end, if the demo exits or the time runs out first. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    const found = (): boolean => this.lines.some((line) => pattern.test(line));
    await waitUntil(() => found() || exited, timeoutMs);
    if (!found()) throw new Error(`the demo ${exited ? 'exited' : `ran ${timeoutMs / 1000} s`} without printing a line matching ${pattern}; its last ${OUTPUT_TAIL_LINES} lines:\n${this.tail()}`);
  }

  /** Signals the demo alone, as `kill <pid>` or a supervisor would, not what it started. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get processGroup(): number {
    return this.child.pid!;
  }

  tail(): string {
    return this.lines.slice(-OUTPUT_TAIL_LINES).join('\n');
  }

  /** SIGTERM to the group (the demo stops its stack on it), then SIGKILL to whatever is left of the group. */
  async stop(): Promise<void> {
    clearTimeout(this.deadline);
    if (!processGroupAlive(this.processGroup)) return;
    signalGroup(this.processGroup, 'SIGTERM');
    const stopped = await waitUntil(() => !processGroupAlive(this.processGroup), STOP_GRACE_MS);
    if (!stopped) signalGroup(this.processGroup, 'SIGKILL');
    await this.exited;
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Signal 0 checks for existence only; ESRCH means no process is left. */
function processAlive(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function processGroupAlive(group: number): boolean {
  return processAlive(-group);
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/**
 * Fails unless every pattern matches a line, each after the one the previous pattern matched:
 * the scenario's steps come in this order. The message names the first step missing and shows the
 * end of the demo's output.
 */
function expectStepsInOrder(demo: DemoProcess, steps: RegExp[]): void {
  let from = 0;
  for (const step of steps) {
    const at = demo.lines.findIndex((line, index) => index >= from && step.test(line));
    if (at < 0) {
      const anywhere = demo.lines.findIndex((line) => step.test(line));
      const where = anywhere >= 0 ? `it is at line ${anywhere + 1}, before the step that precedes it` : 'no line matches it';
      throw new Error(`the demo's output lacks ${step} after line ${from} (${where}); its last ${OUTPUT_TAIL_LINES} lines:\n${demo.tail()}`);
    }
    from = at + 1;
  }
}

function expectCleanExit(demo: DemoProcess, exit: DemoExit): void {
  if (exit.code === 0 && !exit.timedOut) return;
  const how = exit.timedOut ? `did not finish within ${DEMO_DEADLINE_MS / 1000} s and was stopped` : `exited with ${exit.signal ?? `code ${exit.code}`}`;
  throw new Error(`the demo ${how}; its last ${OUTPUT_TAIL_LINES} lines:\n${demo.tail()}`);
}

/** The pids of the "production" service the demo says it started, one per revision it ran. */
function productionPids(demo: DemoProcess): number[] {
  return demo.lines.flatMap((line) => {
    const match = /^demo {2}\| production: .* \(pid (\d+)\)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

/**
 * A namespace per scenario: the demo's revisions are fixed commits, so its deploy watches and
 * incidents have fixed workflow ids, and other test files start workflows with the same ids
 * (workflows/incident/build-failure.workflow.test.ts starts the broken build's incident). In the
 * run's shared namespace the watch would join theirs, or they would join the demo's.
 */
async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // The frontend serves a new namespace once its namespace cache has refreshed.
  const ready = async (): Promise<boolean> =>
    connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 }).then(
      () => true,
      (error: unknown) => {
        if (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND) return false;
        throw error;
      },
    );
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`namespace ${namespace} was registered but did not become usable within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface ScenarioWorld {
  env: NodeJS.ProcessEnv;
  /** The scenario's own database and data folder, to read what the demo left there. */
  databaseUrl: string;
  dataDir: string;
  release(): Promise<void>;
}

describe('the deploy demo scenarios, as `npm run demo -- --scenario …` runs them', () => {
  let connection: Connection;
  let running: DemoProcess | null = null;
  let world: ScenarioWorld | null = null;

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  });
  afterEach(async () => {
    await running?.stop();
    running = null;
    await world?.release();
    world = null;
  });
  afterAll(async () => {
    await connection?.close();
  });

  /** What one scenario runs on: the run's servers, everything else its own. */
  async function scenarioWorld(scenario: string): Promise<ScenarioWorld> {
    const suffix = randomBytes(4).toString('hex');
    const namespace = `steward-demo-${scenario}-${suffix}`;
    await registerNamespace(connection, namespace);
    const database = await createTestDatabase();
    const dataDir = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), `demo-${scenario}-`));
    // Its bubblewrap sandboxes run as an unprivileged uid that must reach their workspaces.
    fs.chmodSync(dataDir, 0o711);
    // Steward's own settings from the outer environment must not leak into the demo under test.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$|CI$)/.test(name)));
    const taskQueue = `demo-${scenario}-${suffix}`;
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      CI: 'true',
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      // The namespace alone keeps other files' workers off its tasks; its own queues say so plainly.
      STEWARD_TASK_QUEUE: taskQueue,
      STEWARD_SANDBOX_TASK_QUEUE: `${taskQueue}-sandboxes`,
      STEWARD_DATA_DIR: dataDir,
      // Port 0, not one of support/ports' free ports: the demo listens seconds after starting, and under a
      // parallel run an outgoing connection took such a port first (EADDRINUSE). The demo prints the one it got.
      STEWARD_API_PORT: '0',
    };
    return {
      env,
      databaseUrl: database.url,
      dataDir,
      async release() {
        await connection.operatorService.deleteNamespace({ namespace });
        await database.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }

  async function runScenario(scenario: 'deploy' | 'build-failure' | 'nightly-qa', deadlineMs = DEMO_DEADLINE_MS): Promise<{ demo: DemoProcess; exit: DemoExit }> {
    world = await scenarioWorld(scenario);
    const demo = new DemoProcess(scenario, world.env, deadlineMs);
    running = demo;
    const exit = await demo.exited;
    return { demo, exit };
  }

  it(
    'deploy: generates monitors from the merged change, flags the new TypeError, cites src/pricing.js:12, fixes forward to one PR while the generated monitor fires, and stops its production service',
    async () => {
      const { demo, exit } = await runScenario('deploy', DEPLOY_DEMO_DEADLINE_MS);

      const monitorId = String.raw`\S+`;
      expectStepsInOrder(demo, [
        /^demo {2}\| production: checkout-service at [0-9a-f]{12} on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/,
        // The merged change's monitors, before the deploy.
        /^demo {2}\| the release arrives as a merged change: [0-9a-f]{12} \(release\/1\.6\.0: .*given to monitor generation as a merged commit, not a merged local PR/,
        /^demo {2}\| the local code host sends no webhook: this is what `npx steward monitors generate checkout-service --commit [0-9a-f]{40}` does$/,
        /^demo {2}\| monitors from the merged change: runtime 1, test 1; \d+ new runtime lines; 3 proposed by the generation agent/,
        /^demo {2}\| {3}validation refused "Bulk orders crash pricing \(unitPriceCents\)": .*grouped values status:\(…\) are not supported.*; asked again with the errors \(revision 1\)$/,
        new RegExp(String.raw`^demo {2}\| {3}created monitor ${monitorId} "Bulk orders crash pricing \(unitPriceCents\)" \(log alert; evaluated locally every minute\): logs\("service:checkout-service status:error \\"unitPriceCents\\""\)`),
        /^demo {2}\| {5}critical 10, warning 2, set from default: /,
        new RegExp(String.raw`^demo {2}\| {3}created monitor ${monitorId} "POST /checkout error rate" \(query alert; not evaluated locally: `),
        /^demo {2}\| {5}critical 0\.05, warning 0\.02, set from proposal: /,
        /^demo {2}\| {3}dropped "Bulk orders without a bulk price" at grounding: dropped: the log message "bulk price missing for" is not in the code at the merge commit$/,
        /^demo {2}\| created monitor ids: \S+, \S+\. 2 monitors created from 3 proposed, 1 dropped, 0 retired\.$/,
        /^demo {2}\| the generation's comment on commit [0-9a-f]{12} \(local-git:\/\/.*\/commits\/[0-9a-f]{40}#comment-\d+\):$/,
        // The deploy and the watch, as before.
        /^demo {2}\| deploying [0-9a-f]{12} \(release\/1\.6\.0: /,
        /^demo {2}\| POST \/webhooks\/deploy answered 202: /,
        /^demo {2}\| flagged at .*: [0-9a-f]{16} new since the deploy .* FLAGGED: TypeError: Cannot read properties of undefined \(reading 'unitPriceCents'\)/,
        /^demo {2}\| deploy triage: caused, /,
        /^demo {2}\| {3}cited line: src\/pricing\.js:12 at [0-9a-f]{12}: /,
        /^demo {2}\| response: fix forward \(/,
        /^demo {2}\| the watch started incident incident-deploy:checkout-service-/,
        /^demo {2}\| reproduced with /,
        /^demo {2}\| fix attempt \d+: verified /,
        /^demo {2}\| the fix waits at the approval gate /,
        /^demo {2}\| pull request #\d+: local-git:\/\//,
        /^demo {2}\| outcome: pr_opened\. /,
        /^demo {2}\| traffic stopped: /,
      ]);
      // The team's one message about the generated monitors, from the console notifier.
      expect(demo.lines.filter((line) => /^notify\| .*2 monitors for checkout-service [0-9a-f]{12}/.test(line))).toHaveLength(1);
      // Beside the watch's own detection (before or after its flag), the local evaluator fires the generated log alert through Steward's Datadog webhook.
      expectStepsInOrder(demo, [
        /^demo {2}\| POST \/webhooks\/deploy answered 202: /,
        new RegExp(String.raw`^demo {2}\| the local monitor evaluator fired monitor ${monitorId} \("Bulk orders crash pricing \(unitPriceCents\)"\) at \S+, alert cycle local-\S+: \d+ logs matching .*: > 10, the threshold\.$`),
        /^demo {2}\| {3}posted to POST \/webhooks\/datadog as Datadog would \(answered 202\)/,
        new RegExp(String.raw`^demo {2}\| the generated monitor ${monitorId} fired in alert cycle local-\S+, which started incident incident-\S+-local-\S+$`),
        /^demo {2}\| pull requests for the regression: 1 \(#\d+ from incident-\S+\)$/,
      ]);
      // One error, one incident that fixes it: the other stands down as a duplicate of it (cross-source dedup).
      const dedup = demo.lines.filter((line) => /^demo {2}\| the monitor's incident incident-\S+ (stood down as a duplicate of incident-\S+|took up the error first and took it to the PR; the watch's incident \S+ stood down as a duplicate of it)$/.test(line));
      if (dedup.length !== 1) throw new Error(`the monitor's incident did not come to one incident with the watch's; its last ${OUTPUT_TAIL_LINES} lines:\n${demo.tail()}`);
      expectCleanExit(demo, exit);
      // Production restarted at the deploy: one service before it, one after, and neither outlives the demo.
      const pids = productionPids(demo);
      expect(pids).toHaveLength(2);
      expect(pids.filter(processAlive)).toEqual([]);
      expect(await waitUntil(() => !processGroupAlive(demo.processGroup), 5_000)).toBe(true);
    },
    DEPLOY_SCENARIO_TIMEOUT_MS,
  );

  it(
    'deploy, sent SIGTERM while its watch runs: stops its production service and traffic before it exits',
    async () => {
      world = await scenarioWorld('deploy');
      const demo = new DemoProcess('deploy', world.env, DEMO_DEADLINE_MS);
      running = demo;
      // Production has restarted at the deploy and the watch has started: the scenario has not returned yet.
      await demo.waitForLine(/^demo {2}\| POST \/webhooks\/deploy answered 202: /, DEMO_DEADLINE_MS);
      demo.signal('SIGTERM');
      const exit = await demo.exited;

      expect(exit).toEqual({ code: 143, signal: null, timedOut: false });
      expectStepsInOrder(demo, [/^demo {2}\| traffic stopped: /]);
      const pids = productionPids(demo);
      expect(pids).toHaveLength(2);
      expect(pids.filter(processAlive)).toEqual([]);
      expect(await waitUntil(() => !processGroupAlive(demo.processGroup), 5_000)).toBe(true);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'build-failure: reports the failed build through POST /webhooks/deploy, and the watch takes it to a PR',
    async () => {
      const { demo, exit } = await runScenario('build-failure');

      expectCleanExit(demo, exit);
      expectStepsInOrder(demo, [
        /^demo {2}\| deployed [0-9a-f]{12} \(branch release\/1\.5\.0, after [0-9a-f]{12}\): its build failed; reporting it to the deploy webhook/,
        // The API's own line: the webhook read the deploy as a failed build. The watch's status lines are sampled, and it passes "build failed" in an instant.
        /^stack \| deploy of checkout-service at [0-9a-f]{40} \(build failed\) started deploy-checkout-service-[0-9a-f]{40} /,
        /^demo {2}\| POST \/webhooks\/deploy answered 202: \{"watchId":"deploy-checkout-service-[0-9a-f]{40}"/,
        /^demo {2}\| the watch started incident incident-deploy:checkout-service-build-/,
        /^demo {2}\| reproduced with the build, `/,
        /^demo {2}\| fix attempt \d+: verified /,
        /^demo {2}\| pull request #\d+: local-git:\/\//,
        /^demo {2}\| outcome: pr_opened\. /,
      ]);
      expect(await waitUntil(() => !processGroupAlive(demo.processGroup), 5_000)).toBe(true);
    },
    SCENARIO_TIMEOUT_MS,
  );
  it(
    'nightly-qa: night 1, triggered through its schedule, proves the FIRSTORDER bug with a test and takes it to a PR on the coupon code; night 2, right after, runs other missions and says why',
    async () => {
      const { demo, exit } = await runScenario('nightly-qa');

      expectCleanExit(demo, exit);
      expectStepsInOrder(demo, [
        /^demo {2}\| the nights' model, and the finding's fix: the recorded transcript demo\/nightly-qa\.transcript\.json \(scripted answers, not a live model\)$/,
        /^demo {2}\| night 1: triggered schedule steward-nightly-qa@checkout-service .*, which started steward-nightly-qa@checkout-service-/,
        /^demo {2}\| {3}sanity:coupons \(sanity-core-features, /,
        /^demo {2}\| the morning report:$/,
        /^demo {2}\| {5}- FIRSTORDER can be redeemed again by typing it in another case \(test\/qa-firstorder-case\.test\.js\): PR local-git:\/\//,
        /^demo {2}\| finding "FIRSTORDER .* incident incident-nightly-qa-/,
        /^demo {2}\| the PR is local record #\d+ \(local-git:\/\/.*\), branch \S+ in /,
        /^demo {2}\| night 2, right after: triggered schedule steward-nightly-qa@checkout-service /,
        /^demo {2}\| not run again from last night:$/,
        /^demo {2}\| {3}sanity:coupons: ran last night \(.*\) and its areas have not changed since$/,
        /^demo {2}\| proven: night 1's finding has PR local-git:\/\//,
      ]);

      // What the demo left behind, not what it printed: the QA ledger's two nights, the local git host's PR, the repository's branch.
      const pool = new Pool({ connectionString: world!.databaseUrl, max: 1 });
      try {
        const [night2, night1, ...earlier] = await new PostgresQaLedger(pool).recentNights('checkout-service', 5);
        expect(earlier).toEqual([]);
        expect([night1!.status, night2!.status]).toEqual(['done', 'done']);
        const ran = (night: typeof night1) => night!.missions.filter((m) => m.status === 'done').map((m) => m.missionId);
        expect(ran(night1)).toContain('sanity:coupons');
        expect(ran(night2).length).toBeGreaterThan(0);
        expect(ran(night2).filter((id) => ran(night1).includes(id))).toEqual([]);
        // Every mission of night 1 is said not run again, with why.
        expect(night2!.report!.notRepeated!.map((n) => n.id).sort()).toEqual(ran(night1).sort());

        const findings = night1!.report!.findings;
        expect(findings).toHaveLength(1);
        expect(findings[0]).toMatchObject({ missionId: 'sanity:coupons', testPath: 'test/qa-firstorder-case.test.js', duplicateOf: null, title: expect.stringMatching(/FIRSTORDER/) });
        expect(night2!.report!.findings).toEqual([]);

        const [pr, ...others] = await localPullRequestsOfIncidents(pool, [findings[0]!.incidentId!]);
        expect(others).toEqual([]);
        expect(pr!.url).toBe(findings[0]!.pullRequestUrl);
        expect(pr!.diff).toMatch(/^diff --git a\/src\/coupons\.js b\/src\/coupons\.js$/m);
        const repository = demoServicesConfig(world!.dataDir)['checkout-service']!.repository;
        expect(execFileSync('git', ['-C', repository, 'diff', '--name-only', 'main', pr!.branch], { encoding: 'utf8' }).split('\n')).toContain('src/coupons.js');
      } finally {
        await pool.end();
      }
      expect(await waitUntil(() => !processGroupAlive(demo.processGroup), 5_000)).toBe(true);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
