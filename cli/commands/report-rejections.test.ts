import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresIncidentLedger } from '../../adapters/postgres-incident-ledger.adapter';
import { newIncidentState, type IncidentState, type Reproduction } from '../../domain/incident';
import type { TriageResult } from '../../domain/triage';
import { createTestDatabase } from '../../test/support/database';
import { buildCliContext } from '../../workers/cli-context';
import type { CliIo } from '../context';
import { runCli } from '../program';

/** `steward report rejections` through the CLI's real composition, over a ledger written as the workflow writes it. */
describe('steward report rejections', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let ledger: PostgresIncidentLedger;

  const triage: TriageResult = {
    verdict: 'real',
    severity: 'P1',
    confidence: 0.85,
    reasoning: 'Orders without a coupon reach discountCents with an undefined coupon.',
    suspectedArea: { files: ['src/pricing.js'], summary: 'discountCents' },
    duplicateOf: null,
    monitorTuning: null,
  };
  const reproduction: Reproduction = {
    testPath: 'test/steward-repro.test.js',
    testContent: "test('order without coupon', () => priceOrder({ items: [] }));\n",
    explanation: 'Pricing an order with no coupon throws.',
    command: 'node --test test/steward-repro.test.js',
    before: { command: 'node --test test/steward-repro.test.js', exitCode: 1, timedOut: false, durationMs: 80, outputTail: 'TypeError' },
    match: "TypeError: Cannot read properties of undefined (reading 'percent')",
  };
  const SIG_COUPON = "TypeError: Cannot read properties of undefined (reading '<*>')";
  const SIG_BULK = 'RangeError: bulk price of <*> items';
  const SIG_TAX = 'Error: tax table missing for <*>';

  function state(incidentId: string, signature: string, overrides: Partial<IncidentState>): IncidentState {
    return { ...newIncidentState(incidentId, { monitorId: '42', service: 'checkout', title: `errors on POST /checkout (${incidentId})` }), signature, deliveries: 1, triage, severity: 'P1', reproduction, ...overrides };
  }
  const pr = (incidentId: string, number: number) => ({ number, url: `https://github.com/acme/shop/pull/${number}`, branch: `steward/${incidentId}` });

  /** Saves an incident, then its decision; the pause keeps "later" apart on the ledger's clock. */
  async function decided(incidentId: string, signature: string, decision: 'approve' | 'reject', overrides: Partial<IncidentState> = {}): Promise<void> {
    await ledger.saveIncident(state(incidentId, signature, { status: decision === 'reject' ? 'rejected' : 'pr_opened', ...overrides }), `run-${incidentId}`);
    await sleep(20);
    await ledger.recordDecision({ incidentId, decision, by: decision === 'reject' ? 'slack:ana' : 'cli:sam', reason: decision === 'reject' ? `no: ${incidentId}` : 'looks right', proposedDiff: `diff --git a/src/pricing.js (${incidentId})`, at: new Date().toISOString() });
    await sleep(20);
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    ledger = new PostgresIncidentLedger(database.pool);
    // The coupon error: rejected, then a later incident's fix approved at the gate.
    await decided('inc-coupon-1', SIG_COUPON, 'reject');
    await decided('inc-coupon-2', SIG_COUPON, 'approve', { pullRequest: pr('inc-coupon-2', 12) });
    // The bulk error: approved once before the rejection, never after, so the rejection has no pair.
    await decided('inc-bulk-1', SIG_BULK, 'approve', { pullRequest: pr('inc-bulk-1', 13) });
    await decided('inc-bulk-2', SIG_BULK, 'reject');
    // The tax error: rejected, then a later PR below the gate's severity merged; its diff is its verified attempt's.
    await decided('inc-tax-1', SIG_TAX, 'reject');
    await ledger.saveIncident(
      state('inc-tax-2', SIG_TAX, { status: 'pr_merged', severity: 'P3', pullRequest: pr('inc-tax-2', 14), pullRequestResolution: { merged: true, mergeCommitSha: 'abc123', at: '2026-12-03T10:00:00.000Z' } }),
      'run-inc-tax-2',
    );
    await ledger.recordFixAttempt({ incidentId: 'inc-tax-2', attempt: 1, verified: false, failureReason: 'suite regressed', diff: 'diff of attempt 1', evidence: {} });
    await ledger.recordFixAttempt({ incidentId: 'inc-tax-2', attempt: 2, verified: true, failureReason: null, diff: 'diff of attempt 2', evidence: {} });
  });
  afterAll(() => database.drop());

  async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (text) => out.push(text), err: (text) => err.push(text), write: () => undefined };
    const code = await runCli(argv, buildCliContext(io, env));
    return { code, out, err };
  }

  it('writes each paired rejection as one JSON line of prompt, chosen and rejected, and counts the unpaired on stderr', async () => {
    const { code, out, err } = await run(['report', 'rejections', '--json'], { DATABASE_URL: database.url });
    expect(code).toBe(0);
    const pairs = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(pairs).toHaveLength(2);
    expect(pairs[0]).toMatchObject({
      incidentId: 'inc-coupon-1',
      service: 'checkout',
      signature: SIG_COUPON,
      reason: 'no: inc-coupon-1',
      rejectedBy: 'slack:ana',
      rejected: 'diff --git a/src/pricing.js (inc-coupon-1)',
      chosen: 'diff --git a/src/pricing.js (inc-coupon-2)',
      chosenIncidentId: 'inc-coupon-2',
      chosenBecause: 'approved',
      chosenPullRequestUrl: 'https://github.com/acme/shop/pull/12',
    });
    expect(pairs[0]!.prompt).toEqual(expect.stringContaining(triage.reasoning));
    expect(pairs[0]!.prompt).toEqual(expect.stringContaining(reproduction.testContent!.trim()));
    expect(pairs[1]).toMatchObject({ incidentId: 'inc-tax-1', chosen: 'diff of attempt 2', chosenIncidentId: 'inc-tax-2', chosenBecause: 'merged', chosenAt: '2026-12-03T10:00:00.000Z' });
    for (const pair of pairs) for (const field of ['prompt', 'chosen', 'rejected']) expect(typeof pair[field]).toBe('string');
    expect(err).toEqual(['steward: 1 rejection left out, with no chosen diff: inc-bulk-2 (no later PR for the same service and signature was approved or merged)']);
  });

  it('lists every rejection and what it was paired with, without --json', async () => {
    const { code, out, err } = await run(['report', 'rejections'], { DATABASE_URL: database.url });
    expect({ code, err }).toEqual({ code: 0, err: [] });
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toBe('rejections at the approval gate: 3; 2 paired with a later approved or merged PR, 1 unpaired');
    const row = (incidentId: string) => lines.find((line) => line.startsWith(incidentId))?.split(/\s{2,}/);
    expect(row('inc-coupon-1')).toEqual(['inc-coupon-1', 'checkout', expect.stringMatching(/^\d{4}-/), 'slack:ana', 'inc-coupon-2 (approved)', 'no: inc-coupon-1']);
    expect(row('inc-tax-1')?.[4]).toBe('inc-tax-2 (merged)');
    expect(row('inc-bulk-2')?.[4]).toBe('none: no later PR for the same service and signature was approved or merged');
  });

  it('says DATABASE_URL is needed when it is not set', async () => {
    const { code, err } = await run(['report', 'rejections', '--json'], {});
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/DATABASE_URL is not set: report rejections reads the ledger/);
  });
});
