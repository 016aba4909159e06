import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import { LocalGitCodeHost } from '../../adapters/local-git-code-host.adapter';
import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { demoServicesConfig } from '../../config/config';
import {
  DEPLOY_WATCH_WORKFLOW_TYPE,
  deployDecisionSignal,
  deployWatchStateQuery,
  deployWatchWorkflowId,
  incidentStateQuery,
  SEARCH_ATTRIBUTES,
  type DeployWatchPolicy,
  type DeployWatchWorkflowInput,
} from '../../contracts';
import type { DeployEvent } from '../../domain/deploy';
import { errorSignature } from '../../domain/error-signature';
import type { ServicesConfig } from '../../domain/service-config';
import { BROKEN_BUILD_LOG, commitBrokenBuild } from '../../infra/demo-fixtures';
import type { CodeHostPort, LineAuthor, LineRef } from '../../ports/code-host.port';
import type { ModelRequest } from '../../ports/model.port';
import { InMemoryLogs } from '../../test/fakes/in-memory-logs';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../../test/support/harness';
import type { IncidentOutcome } from '../incident/incident.workflow';
import type { DeployWatchOutcome } from './deploy-watch.workflow';
import { recordHistory as recordHistoryOf } from '../../test/support/record-history';

/**
 * The deploy watch on the dev server, through every way it can end: a clean deploy, a regression
 * fixed forward (its child incident taken to a PR by the demo's recorded fix), a severe regression
 * of unclear cause proposed for roll-back and rolled back at the gate, a deploy that changed no
 * runtime file, a link found in an earlier deploy of the lookback, and a failed build. The logs are
 * in memory, everything else is Steward's own: the signature store in Postgres, git code search
 * and the local code host over the demo repository, process sandboxes, and the scripted model.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const COUPON_ERROR = "TypeError: Cannot read properties of undefined (reading 'percent')";
const COUPON_STACK = ['    at discountCents (/app/src/pricing.js:10:40)', '    at priceOrder (/app/src/pricing.js:19:20)', '    at handleCheckout (/app/src/server.js:9:10)'].join('\n');
const COUPON_LINE = '  return Math.round((subtotal * coupon.percent) / 100);';

/** The local code host, but one that knows logins (as GitHub maps a commit's email to its user). */
class CodeHostWithLogins extends LocalGitCodeHost implements CodeHostPort {
  async authorOfLine(line: LineRef): Promise<LineAuthor> {
    const author = await super.authorOfLine(line);
    return { ...author, login: author.email ? author.email.split('@')[0]! : null };
  }
}

/** The flagged signature ids the link prompt names: the model answers with one of them, as a model would. */
function signaturesInPrompt(request: ModelRequest): string[] {
  return [...request.prompt.matchAll(/Signature ([0-9a-f]{16}):/g)].map((m) => m[1]!);
}

function couponLink(request: ModelRequest) {
  const [signature] = signaturesInPrompt(request);
  return {
    verdict: 'caused',
    confidence: 0.9,
    reasoning: 'discountCents reads coupon.percent of an order that may have no coupon.',
    link: { file: 'src/pricing.js', line: 10, side: 'new', lineText: COUPON_LINE.trim(), signature, function: 'discountCents', symbols: ['discountCents'] },
    attributedSignatures: [signature],
  };
}

function git(repository: string, args: string[]): string {
  return execFileSync('git', args, { cwd: repository, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dana', GIT_AUTHOR_EMAIL: 'dana@example.com', GIT_COMMITTER_NAME: 'Dana', GIT_COMMITTER_EMAIL: 'dana@example.com' } }).trim();
}

/** A commit on a branch of its own in the demo repository, from `base`, leaving its checkout alone. */
function commitOnBranch(repository: string, branch: string, base: string, files: Record<string, string>): string {
  const staging = `${repository}.${branch}`;
  git(repository, ['worktree', 'add', '--quiet', '-b', branch, staging, base]);
  try {
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(`${staging}/${file}`, content);
    git(staging, ['add', '-A']);
    git(staging, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', `change ${Object.keys(files).join(', ')}`]);
    return git(staging, ['rev-parse', 'HEAD']);
  } finally {
    git(repository, ['worktree', 'remove', '--force', staging]);
  }
}

/** A steady background: each message at its hourly rate, spread evenly, over the days before `until` and a little past it. */
function seedBackground(logs: InMemoryLogs, service: string, until: number, days: number, rates: Record<string, number>): void {
  for (const [message, perHour] of Object.entries(rates)) {
    const gap = HOUR / perHour;
    for (let at = until - days * 24 * HOUR + gap / 2; at < until + HOUR; at += gap) {
      logs.add({ service, timestamp: new Date(at).toISOString(), message: message.replace('#', String(Math.floor(at) % 9973)) });
    }
  }
}

/** The coupon error after the deploy, at `perHour`. */
function seedCouponErrors(logs: InMemoryLogs, service: string, deployedAt: number, perHour: number): void {
  for (let at = deployedAt + 10_000; at < deployedAt + 20 * MINUTE; at += HOUR / perHour) {
    logs.add({ service, timestamp: new Date(at).toISOString(), message: COUPON_ERROR, stackTrace: `${COUPON_ERROR}\n${COUPON_STACK}` });
  }
}

describe('deploy watch workflow', () => {
  let h: Harness;
  let model: ScriptedModel;
  let root: string;
  const logs = new InMemoryLogs();
  // Deploys in the past: every poll's time has come, so the watch runs its whole horizon at once.
  const policy: DeployWatchPolicy = {
    baselineDays: 2,
    baselineMaxLogs: 100_000,
    pollMs: MINUTE,
    horizonMs: 20 * MINUTE,
    ingestionLagMs: 0,
    lookbackDeploys: 3,
    falseAlarmRate: 0.01,
    response: { rollbackMinSeverity: 'P1', fixForwardMinConfidence: 0.7 },
  };

  beforeAll(async () => {
    h = await createHarness();
    root = git(h.repositoryPath, ['rev-parse', 'main']);
    const demo = demoServicesConfig(h.dataDir)['checkout-service']!;
    // One repository under several names: each test's service has its own logs, deploys and signatures.
    const services: ServicesConfig = Object.fromEntries(['checkout-service', 'checkout-rollback', 'checkout-docs', 'checkout-lookback', 'checkout-build'].map((name) => [name, demo]));
    model = new ScriptedModel(demoTranscriptSteps());
    await h.startWorker({
      ports: {
        model,
        logs,
        services,
        codeHost: new CodeHostWithLogins({ pool: h.pool }),
        codeSearch: new GitCodeSearch({ repositories: Object.fromEntries(Object.keys(services).map((name) => [name, h.repositoryPath])), mirrorRoot: `${h.dataDir}/code-search` }),
        signatures: new PostgresSignatureStore(h.pool),
        // No approval gate for the fixes: the roll-back's own gate is what these tests decide at.
        incidentPolicy: testPolicy({ sandboxTaskQueue: sandboxQueueFor(h.taskQueue), approvalMinSeverity: 'P0' }),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  function deployOf(service: string, deployedAt: number, revision: string, previousRevision: string | null, build: DeployEvent['build'] = { status: 'success', log: null, logUrl: null }): DeployEvent {
    return { service, revision, previousRevision, environment: 'production', deployedAt: new Date(deployedAt).toISOString(), build, source: 'webhook' };
  }

  async function startWatch(deploy: DeployEvent) {
    return h.client.workflow.start<(input: DeployWatchWorkflowInput) => Promise<DeployWatchOutcome>>(DEPLOY_WATCH_WORKFLOW_TYPE, {
      taskQueue: h.taskQueue,
      workflowId: deployWatchWorkflowId(deploy.service, deploy.revision),
      args: [{ deploy, policy }],
    });
  }

  async function watch(deploy: DeployEvent) {
    const handle = await startWatch(deploy);
    return { handle, outcome: await handle.result() };
  }

  const recordHistory = (name: string, workflowId: string) => recordHistoryOf(h.client, name, workflowId);

  async function localPullRequestOf(incidentId: string) {
    const { rows } = await h.pool.query<{ number: number; reviewers: string[]; branch: string; body: string }>('SELECT number, reviewers, branch, body FROM local_pull_requests WHERE incident_id = $1', [incidentId]);
    return rows[0] ?? null;
  }

  it('finds a deploy that changed nothing clean, over every poll, and says so in its search attributes', async () => {
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'quiet-svc', deployedAt, 2, { 'upstream timeout after # ms': 40, 'cache refresh failed for key #': 5, 'rare retry exhausted on job #': 0.5 });
    const { handle, outcome } = await watch(deployOf('quiet-svc', deployedAt, `rev-${randomBytes(4).toString('hex')}`, 'rev-before'));
    expect(outcome).toMatchObject({ verdict: 'clean', ending: 'clean', flagged: [], incidentId: null });
    const state = await handle.query(deployWatchStateQuery);
    expect(state.pollsDone).toBe(20);
    expect(state.examined).toBeGreaterThanOrEqual(3);
    expect(state.attribution).toBeNull();
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('clean');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe('quiet-svc');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.flaggedSignatures)).toBe(0);
    await recordHistory('deploy-watch-clean', handle.workflowId);
  });

  it('flags a new error within minutes, ties it to the cited line, and fixes forward through a child incident to a PR that asks the line\'s author', async () => {
    model.script('triage.deploy-1.link', couponLink);
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'checkout-service', deployedAt, 2, { 'upstream timeout after # ms': 40, 'cache refresh failed for key #': 5 });
    seedCouponErrors(logs, 'checkout-service', deployedAt, 45);
    // The demo repository's one commit: its own diff (against the empty tree) holds the coupon line.
    const { handle, outcome } = await watch(deployOf('checkout-service', deployedAt, root, null));

    expect(outcome).toMatchObject({ verdict: 'caused', ending: 'fixing_forward' });
    const state = await handle.query(deployWatchStateQuery);
    expect(Date.parse(state.flagged[0]!.flaggedAt!) - deployedAt).toBeLessThanOrEqual(10 * MINUTE);
    expect(state.attribution).toMatchObject({ verdict: 'caused', heldBy: root, citedLine: { revision: root, file: 'src/pricing.js', line: 10, text: COUPON_LINE } });
    expect(state.response).toMatchObject({ action: 'fix_forward', reviewers: ['checkout'] });
    // Tens of extra errors an hour, as estimated at the flag: P2, or P1 when the first minutes ran hot.
    expect(['P1', 'P2']).toContain(state.response!.severity);
    expect(model.lastRequest('triage.deploy-1.link').prompt).toContain('at discountCents (/app/src/pricing.js:10:40)');
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('caused');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.flaggedSignatures)).toBe(1);

    // The child incident: the regression is its alert, reproduced, fixed and opened as a PR.
    const incidentId = outcome.incidentId!;
    expect(incidentId).toBe(`incident-deploy:checkout-service-${root}-${state.flagged[0]!.signature}`);
    const child = h.client.workflow.getHandle(incidentId);
    const result = (await child.result()) as IncidentOutcome;
    expect(result.status).toBe('pr_opened');
    const incident = await child.query(incidentStateQuery);
    expect(incident.triage).toMatchObject({ verdict: 'real', severity: state.response!.severity, suspectedArea: { files: ['src/pricing.js'] } });
    expect(incident.deliveries).toBe(1);
    expect((await child.describe()).parentExecution?.workflowId).toBe(handle.workflowId);
    expect(await localPullRequestOf(incidentId)).toMatchObject({ reviewers: ['checkout'] });
    await recordHistory('deploy-watch-fixed-forward', handle.workflowId);
  });

  it('proposes a roll-back for a severe spike of unclear cause, verifies the revert, and opens it once a person chooses it', async () => {
    model.script('triage.deploy-1.link', { verdict: 'uncertain', confidence: 0.4, reasoning: 'The change touches the handler, but no line explains the error.', link: null, attributedSignatures: [] });
    const revision = commitOnBranch(h.repositoryPath, 'release/rollback', root, { 'src/server.js': `${fs.readFileSync(`${h.repositoryPath}/src/server.js`, 'utf8')}\n// rollout marker\n` });
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'checkout-rollback', deployedAt, 2, { 'upstream timeout after # ms': 40 });
    seedCouponErrors(logs, 'checkout-rollback', deployedAt, 240);
    const handle = await startWatch(deployOf('checkout-rollback', deployedAt, revision, root));

    let state = await handle.query(deployWatchStateQuery);
    for (let i = 0; i < 600 && state.status !== 'awaiting_decision' && state.status !== 'closed'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = await handle.query(deployWatchStateQuery);
    }
    expect(state.status).toBe('awaiting_decision');
    expect(state.response).toMatchObject({ action: 'roll_back', severity: 'P1', rollback: { form: 'revert_pr', verified: true }, decision: null });
    const proposed = h.deliveredNotifications(handle.workflowId).find((n) => n.kind === 'rollback_proposed');
    expect(proposed?.text).toContain('Roll-back: a revert PR');

    await handle.signal(deployDecisionSignal, { action: 'rollBack', by: 'slack:dana', reason: 'errors on every checkout' });
    const outcome = await handle.result();
    expect(outcome).toMatchObject({ verdict: 'uncertain', ending: 'rolled_back', incidentId: null });
    state = await handle.query(deployWatchStateQuery);
    expect(state.response!.decision).toMatchObject({ action: 'rollBack', by: 'slack:dana' });
    expect(state.response!.rolledBack!.prUrl).toBeTruthy();
    const pr = await localPullRequestOf(handle.workflowId);
    expect(pr).toMatchObject({ branch: `steward/revert-${revision.slice(0, 12)}` });
    // The revert PR holds the previous revision's tree.
    const head = git(h.repositoryPath, ['rev-parse', `refs/heads/${pr!.branch}`]);
    expect(git(h.repositoryPath, ['diff', root, head, '--stat'])).toBe('');
    expect(h.deliveredNotifications(handle.workflowId).map((n) => n.kind)).toEqual(['rollback_proposed', 'approval_decided']);
    await recordHistory('deploy-watch-rolled-back', handle.workflowId);
  });

  it('clears a deploy that changed no runtime file without asking the model, and only reports the rise', async () => {
    const revision = commitOnBranch(h.repositoryPath, 'release/docs', root, { 'README.md': '# checkout-service\n\nPrices orders.\n' });
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'checkout-docs', deployedAt, 2, { 'upstream timeout after # ms': 40 });
    seedCouponErrors(logs, 'checkout-docs', deployedAt, 240);
    const triageSteps = () => model.stepsAsked().filter((step) => step.startsWith('triage.deploy'));
    const asked = triageSteps().length;
    const { handle, outcome } = await watch(deployOf('checkout-docs', deployedAt, revision, root));

    expect(outcome).toMatchObject({ verdict: 'not_caused', ending: 'reported', incidentId: null });
    expect(triageSteps().slice(asked)).toEqual([]);
    const state = await handle.query(deployWatchStateQuery);
    expect(state.attribution).toMatchObject({ verdict: 'not_caused', citedLine: null, filesByClass: [{ revision, summary: 'docs 1' }] });
    expect(state.response).toMatchObject({ action: 'report' });
    expect(h.deliveredNotifications(handle.workflowId)).toEqual([]);
    await recordHistory('deploy-watch-not-runtime', handle.workflowId);
  });

  it('looks back over the earlier deploys when the latest diff holds no link, and fixes forward at the one that does', async () => {
    model.script('triage.deploy-1.link', { verdict: 'not_caused', confidence: 0.8, reasoning: 'The change only adds a comment.', link: null, attributedSignatures: [] });
    model.script('triage.deploy-2.link', couponLink);
    const earlier = Date.now() - 6 * HOUR;
    const quiet = await watch(deployOf('checkout-lookback', earlier, root, null));
    expect(quiet.outcome.verdict).toBe('clean');

    const revision = commitOnBranch(h.repositoryPath, 'release/lookback', root, { 'src/server.js': `${fs.readFileSync(`${h.repositoryPath}/src/server.js`, 'utf8')}\n// a comment\n` });
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'checkout-lookback', deployedAt, 2, { 'upstream timeout after # ms': 40 });
    seedCouponErrors(logs, 'checkout-lookback', deployedAt, 45);
    // No previous revision given: the deploy recorded before it is the one it replaced.
    const { handle, outcome } = await watch(deployOf('checkout-lookback', deployedAt, revision, null));

    expect(outcome).toMatchObject({ verdict: 'caused', ending: 'fixing_forward' });
    const state = await handle.query(deployWatchStateQuery);
    expect(state.attribution).toMatchObject({ heldBy: root, citedLine: { revision: root, file: 'src/pricing.js', line: 10 } });
    expect(state.attribution!.filesByClass.map((f) => f.revision)).toEqual([revision, root]);
    expect(state.attribution!.reasoning).toContain(`an earlier deploy of the lookback, ${root}, does`);
    const child = h.client.workflow.getHandle(outcome.incidentId!);
    await waitFor(async () => (await child.query(incidentStateQuery)).triage !== null);
    expect((await child.query(incidentStateQuery)).triage).toMatchObject({ suspectedArea: { files: ['src/pricing.js'] } });
    // Its fix is the one the previous test verified: this one is stopped here.
    await child.terminate('the test has seen the incident start');
    await recordHistory('deploy-watch-lookback', handle.workflowId);
  });

  it('takes a failed build straight to a child incident with its log and the diff since the previous revision', async () => {
    const broken = commitBrokenBuild(h.repositoryPath);
    const deployedAt = Date.now() - 5 * MINUTE;
    const { handle, outcome } = await watch(deployOf('checkout-build', deployedAt, broken.revision, broken.previousRevision, { status: 'failure', log: BROKEN_BUILD_LOG, logUrl: null }));

    expect(outcome).toMatchObject({ verdict: 'build_failed', ending: 'build_failed' });
    const state = await handle.query(deployWatchStateQuery);
    expect(state.pollsDone).toBe(0);
    const child = h.client.workflow.getHandle(outcome.incidentId!);
    await waitFor(async () => (await child.query(incidentStateQuery)).triage !== null);
    const incident = await child.query(incidentStateQuery);
    expect(incident.signature).toBe(errorSignature("Error: Cannot find module './shipping-rules'"));
    expect(incident.triage).toMatchObject({ verdict: 'real', suspectedArea: { files: expect.arrayContaining(['src/pricing.js']) } });
    await child.terminate('the build-failure workflow test takes this path to its PR');
    await recordHistory('deploy-watch-build-failed', handle.workflowId);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
