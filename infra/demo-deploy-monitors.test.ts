/**
 * The monitor generation steps of demo/deploy.transcript.json hold up against the deploy demo's
 * fixture: the real generation agent, served the recorded turns by the replay model, reads the
 * regression revision with its read-only tools in a sandbox and proposes; the real grounding, the
 * embedded validator and the recorded re-ask then decide each proposal as the demo prints it. A
 * transcript that drifts from the fixture (a tool call that finds nothing, a phrase no longer in
 * the code, a query the evaluator would not count) fails here rather than in the demo.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GitCodeSearch } from '../adapters/git-code-search.adapter';
import { PostgresMonitors, upsertMonitor } from '../adapters/postgres-monitors.adapter';
import { ReplayModel } from '../adapters/replay-model.adapter';
import { createGenerationAgentActivities } from '../activities/monitor-generation/generation-agent.activities';
import { createMonitorGenerationActivities, type GroundedCandidate, type OriginInput } from '../activities/monitor-generation/monitor-generation.activities';
import { demoServicesConfig } from '../config/config';
import { DEFAULT_COUNT_THRESHOLDS } from '../domain/monitor-generation/thresholds';
import { matchesLogRecord, parseLogMonitorQuery } from '../domain/log-query';
import type { ToolResult } from '../ports/model.port';
import { ProcessSandbox } from '../sandbox/process-sandbox.adapter';
import { InMemoryAgentConversations } from '../test/fakes/in-memory-agent-conversations';
import { InMemoryCodeHost } from '../test/fakes/in-memory-code-host';
import { InMemoryGeneratedMonitors } from '../test/fakes/in-memory-generated-monitors';
import { InMemoryIncidentLedger } from '../test/fakes/in-memory-ledger';
import { RecordingNotifier } from '../test/fakes/recording-notifier';
import { createTestDatabase } from '../test/support/database';
import { activityEnvironment, runActivity } from '../test/support/reproduced-demo-incident';
import { generateBaselineLogs } from './demo-baseline-logs';
import { commitRegression, DEPLOY_TRANSCRIPT_PATH, demoMonitor, ensureDemoRepository } from './demo-fixtures';
import { checkoutRevision } from './demo-production-service';

const SERVICE = 'checkout-service';
const CRASH = 'Bulk orders crash pricing (unitPriceCents)';
const ERROR_RATE = 'POST /checkout error rate';
const MADE_UP = 'Bulk orders without a bulk price';

let root: string;
let deploy: { revision: string; previousRevision: string };
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let monitors: PostgresMonitors;
/** The error the regressed service throws for ten tees, as its OpenTelemetry preload sends it (the record's body). */
let thrownMessage: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-demo-monitors-'));
  const repository = demoServicesConfig(root)[SERVICE]!.repository;
  ensureDemoRepository(repository);
  deploy = commitRegression(repository);
  const production = path.join(root, 'production');
  checkoutRevision({ repositoryPath: repository, checkoutPath: production }, deploy.revision);
  const run = spawnSync(
    process.execPath,
    ['-e', "try { require('./src/server').handleCheckout({ items: [{ sku: 'TEE', unitPriceCents: 1999, quantity: 10 }], couponCode: 'WELCOME10' }); } catch (e) { process.stdout.write(e.name + ': ' + e.message); process.exit(3); }"],
    { cwd: production, encoding: 'utf8', env: { PATH: process.env.PATH } },
  );
  expect(run.status).toBe(3);
  thrownMessage = run.stdout;
  database = await createTestDatabase();
  monitors = new PostgresMonitors(database.pool);
  // The demo's hand-written monitor is in the store, as the demo seeds it: the agent is shown it.
  await upsertMonitor(database.pool, demoMonitor());
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

function activities() {
  const services = { [SERVICE]: { ...demoServicesConfig(root)[SERVICE]!, setupCommand: null } };
  const codeSearch = new GitCodeSearch({ repositories: { [SERVICE]: services[SERVICE].repository }, mirrorRoot: path.join(root, 'mirrors') });
  const model = new ReplayModel(DEPLOY_TRANSCRIPT_PATH);
  const conversations = new InMemoryAgentConversations();
  const agent = createGenerationAgentActivities({ model, sandbox: new ProcessSandbox({ root: path.join(root, 'sandboxes') }), conversations, codeSearch, monitors, services });
  const generation = createMonitorGenerationActivities({
    codeSearch,
    monitors,
    generated: new InMemoryGeneratedMonitors(),
    // No signature counted yet: the demo generates before the deploy watch has counted a baseline.
    signatures: null,
    codeHost: new InMemoryCodeHost(),
    model,
    notifier: new RecordingNotifier(),
    ledger: new InMemoryIncidentLedger(),
    services,
    baselineDays: 7,
  });
  return { agent, generation, conversations };
}

describe('the monitor generation steps of demo/deploy.transcript.json', () => {
  const generationId = 'monitors-checkout-service-commit-demo';
  const origin = (): OriginInput => ({ repository: SERVICE, sha: deploy.revision, pullRequest: null, changeRef: `commit-${deploy.revision}` });
  let subject: ReturnType<typeof activities>;
  let proposed: Awaited<ReturnType<ReturnType<typeof activities>['agent']['proposeMonitors']>>;
  let grounded: Awaited<ReturnType<ReturnType<typeof activities>['generation']['groundMonitorProposals']>>;

  beforeAll(async () => {
    subject = activities();
    proposed = await runActivity(activityEnvironment(), subject.agent.proposeMonitors, {
      generationId,
      repository: SERVICE,
      services: [SERVICE],
      mergeCommit: deploy.revision,
      changeTitle: null,
      maxTurns: 12,
      maxDiffChars: 60_000,
    });
    grounded = await runActivity(activityEnvironment(), subject.generation.groundMonitorProposals, { service: SERVICE, services: [SERVICE], mergeCommit: deploy.revision, proposals: proposed.proposals });
  });

  const validate = (candidate: GroundedCandidate) =>
    runActivity(activityEnvironment(), subject.generation.validateMonitorProposal, { candidate, origin: origin(), webhookHandle: '@webhook-steward', targetFalseFiresPerQuarter: 1 });
  const candidate = (name: string): GroundedCandidate => {
    const found = grounded.kept.find((c) => c.proposal.name === name);
    if (!found) throw new Error(`no grounded proposal named ${JSON.stringify(name)}; kept: ${grounded.kept.map((c) => c.proposal.name).join(', ')}`);
    return found;
  };

  it('has the agent read the code with tools that find what its next turn says of it, then propose three monitors in the schema', async () => {
    expect(proposed).toMatchObject({ turns: 3, refused: [], note: null });
    expect(proposed.proposals.map((p) => [p.name, p.type, p.service])).toEqual([
      [CRASH, 'log alert', SERVICE],
      [ERROR_RATE, 'query alert', SERVICE],
      [MADE_UP, 'log alert', SERVICE],
    ]);
    const stored = await subject.conversations.load({ incidentId: generationId, attempt: 1 });
    const results = stored.flatMap((m) => (m.message.role === 'tool_results' ? m.message.results : []));
    const text = (results: ToolResult[]) => results.map((r) => r.content).join('\n');
    expect(results.filter((r) => r.isError)).toEqual([]);
    // Turn 2 says the lookup is unguarded, BULK_PRICES holds MUG and SOCKS, and server.js logs with console.error: the tools showed it.
    expect(text(results)).toContain('BULK_PRICES[item.sku].unitPriceCents');
    expect(text(results)).toMatch(/MUG: \{ unitPriceCents: 990 \}[\s\S]*SOCKS: \{ unitPriceCents: 450 \}/);
    expect(text(results)).toMatch(/src\/server\.js:\d+:\s*console\.error\(error\)/);
    // Turn 3 names POST /checkout: read from server.js.
    expect(text(results)).toContain("req.url !== '/checkout'");
  });

  it('grounds the log alert and the endpoint in the code, and drops the one on a message the code does not have', () => {
    expect(grounded.kept.map((c) => c.proposal.name)).toEqual([CRASH, ERROR_RATE]);
    expect(grounded.dropped).toEqual([
      expect.objectContaining({ name: MADE_UP, stage: 'grounding', reason: 'dropped: the log message "bulk price missing for" is not in the code at the merge commit' }),
    ]);
    expect(candidate(CRASH).coveredLines).toContain('src/pricing.js:12');
  });

  it("has the validator refuse the log alert's first query, and the recorded re-ask correct it into one the evaluator counts", async () => {
    const first = await validate(candidate(CRASH));
    expect(first).toEqual({ valid: false, errors: [expect.stringContaining('grouped values status:(…) are not supported')] });
    const { proposal } = await runActivity(activityEnvironment(), subject.generation.reviseMonitorProposal, {
      generationId,
      attempt: 1,
      proposal: candidate(CRASH).proposal,
      errors: first.valid ? [] : first.errors,
    });
    expect(proposal).toMatchObject({ name: CRASH, service: SERVICE, location: { file: 'src/pricing.js', line: 12 } });
    const regrounded = await runActivity(activityEnvironment(), subject.generation.groundMonitorProposals, { service: SERVICE, services: [SERVICE], mergeCommit: deploy.revision, proposals: [proposal] });
    expect(regrounded.dropped).toEqual([]);
    const verdict = await validate(regrounded.kept[0]!);
    if (!verdict.valid) throw new Error(`the revision is still invalid: ${verdict.errors.join('; ')}`);
    expect(verdict.evaluatedLocally).toBe(true);
    // No baseline yet: the stated default, more than two lines a minute over the five minutes.
    expect(verdict.candidate.thresholds).toMatchObject({ source: 'default', critical: DEFAULT_COUNT_THRESHOLDS.criticalPerMinute * 5 });

    // What the evaluator counts: the regression's error, and none of the week of background errors the demo seeds.
    const search = parseLogMonitorQuery(verdict.candidate.proposal.query).search;
    const record = (message: string) => ({ service: SERVICE, message, severityNumber: 17, isError: true, attributes: {}, resourceAttributes: { 'service.name': SERVICE } });
    expect(matchesLogRecord(search, record(thrownMessage))).toBe(true);
    const background = generateBaselineLogs(Date.parse('2026-11-20T00:00:00Z'), Date.parse('2026-11-27T00:00:00Z'));
    expect(background.length).toBeGreaterThan(1_000);
    expect(background.filter((log) => matchesLogRecord(search, record(`${log.type}: ${log.message}`)))).toEqual([]);
  });

  it('keeps the APM monitor with its proposed thresholds, labelled not evaluated locally', async () => {
    const verdict = await validate(candidate(ERROR_RATE));
    if (!verdict.valid) throw new Error(`the APM monitor is invalid: ${verdict.errors.join('; ')}`);
    expect(verdict.evaluatedLocally).toBe(false);
    expect(verdict.candidate.thresholds).toMatchObject({ source: 'proposal', critical: 0.05, warning: 0.02 });
  });
});
