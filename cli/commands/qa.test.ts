import { InMemoryQaLedger } from '../../test/fakes/in-memory-qa-ledger';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliConfig } from '../../config/cli.config';
import type { NightlyQaScheduleTrigger } from '../../use-cases/nightly-qa.use-case';
import type { CliContext } from '../context';
import { runCli } from '../program';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const unused = (): never => {
    throw new Error('not written to');
  };
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), write: unused } };
}

/** A schedule store that behaves as Temporal's does for these calls: a trigger starts a night unless one is running (SKIP). */
class FakeSchedules implements NightlyQaScheduleTrigger {
  readonly triggered: string[] = [];
  constructor(
    private readonly schedules: Map<string, { paused: boolean; recent: string[]; running: boolean }>,
  ) {}
  async describe(scheduleId: string) {
    const s = this.schedules.get(scheduleId);
    return s ? { paused: s.paused, recentWorkflowIds: [...s.recent] } : null;
  }
  async trigger(scheduleId: string) {
    this.triggered.push(scheduleId);
    const s = this.schedules.get(scheduleId)!;
    if (!s.running) s.recent.push(`${scheduleId}-2026-12-03T12:00:00Z`);
  }
}

describe('steward qa run-now', () => {
  const contextWith = (schedules: FakeSchedules): CliContext & { out: string[]; err: string[] } => {
    const streams = io();
    return Object.assign(cliContextFor({ io: streams.io, openNightlyQaSchedules: async () => ({ schedules, close: async () => undefined }) }), { out: streams.out, err: streams.err });
  };

  it("triggers the service's schedule and names the night it started", async () => {
    const schedules = new FakeSchedules(new Map([['steward-nightly-qa@checkout-service', { paused: false, recent: [], running: false }]]));
    const context = contextWith(schedules);
    expect(await runCli(['qa', 'run-now', 'checkout-service'], context)).toBe(0);
    expect(schedules.triggered).toEqual(['steward-nightly-qa@checkout-service']);
    expect(context.out).toEqual(['started steward-nightly-qa@checkout-service-2026-12-03T12:00:00Z from steward-nightly-qa@checkout-service']);
  });

  it('fails naming the schedule when the service has none', async () => {
    const none = contextWith(new FakeSchedules(new Map()));
    expect(await runCli(['qa', 'run-now', 'billing'], none)).toBe(1);
    expect(none.err.join('\n')).toMatch(/no schedule steward-nightly-qa@billing: is billing in the services file/);

  });

  it('refuses a service name that cannot be one, as a usage error', async () => {
    const context = contextWith(new FakeSchedules(new Map()));
    expect(await runCli(['qa', 'run-now', 'a b'], context)).toBe(2);
  });
});

describe('steward qa status', () => {
  const ledger = new InMemoryQaLedger();
  const contextWith = (databaseUrl: string | null): CliContext & { out: string[]; err: string[] } => {
    const streams = io();
    return Object.assign(
      cliContextFor({ io: streams.io, config: () => ({ databaseUrl }) as CliConfig, openQaLedger: () => ({ ledger, close: async () => undefined }) }),
      { out: streams.out, err: streams.err },
    );
  };

  beforeAll(async () => {
    await ledger.startNight({ nightId: 'qa-n1', service: 'checkout-service', night: '2026-12-01', revision: 'abc', startedAt: '2026-12-01T02:00:00.000Z', budgetUsd: 5 });
    await ledger.recordMission({
      nightId: 'qa-n1',
      missionId: 'probe:src/coupon.js',
      service: 'checkout-service',
      kind: 'probe-least-explored',
      reason: 'never explored',
      status: 'done',
      areas: ['src/coupon.js'],
      filesRead: [],
      commandsRun: [],
      testsWritten: ['test/coupon.qa.test.js'],
      findings: [{ missionId: 'probe:src/coupon.js', signature: 's', title: 'a 100% coupon makes the total negative', testPath: 'test/coupon.qa.test.js', expectedFailure: 'AssertionError', incidentId: 'i-1', pullRequestUrl: 'local-git://checkout-service/pulls/2', duplicateOf: null }],
      leads: [],
      costUsd: 0.4,
      turns: 6,
      recordedAt: '2026-12-01T02:20:00.000Z',
    });
    await ledger.recordMission({ nightId: 'qa-n1', missionId: 'probe:src/tax.js', service: 'checkout-service', kind: 'probe-least-explored', reason: 'never explored', status: 'skipped-budget', areas: ['src/tax.js'], filesRead: [], commandsRun: [], testsWritten: [], findings: [], leads: [], costUsd: 0, turns: 0, recordedAt: '2026-12-01T02:21:00.000Z' });
    await ledger.startNight({ nightId: 'qa-other', service: 'billing', night: '2026-12-02', revision: null, startedAt: '2026-12-02T02:00:00.000Z', budgetUsd: 5 });
  });

  it("shows a service's nights with each mission, its findings' PRs and what was skipped", async () => {
    const context = contextWith('postgres://x');
    expect(await runCli(['qa', 'status', 'checkout-service'], context)).toBe(0);
    const text = context.out.join('\n');
    expect(text).toContain('checkout-service  night 2026-12-01  running  1 mission(s) run, 1 skipped  1 finding(s), 0 lead(s)  $0.00 of $5.00  (qa-n1)');
    expect(text).toContain('done           probe:src/coupon.js  $0.40, 6 turn(s): never explored finding: a 100% coupon makes the total negative → local-git://checkout-service/pulls/2');
    expect(text).toContain('skipped-budget probe:src/tax.js');
    expect(text).not.toContain('billing');
  });

  it('shows every service without one, newest first, and JSON lines with --json', async () => {
    const all = contextWith('postgres://x');
    expect(await runCli(['qa', 'status', '--json', '--last', '5'], all)).toBe(0);
    expect(all.out.map((line) => (JSON.parse(line) as { nightId: string }).nightId)).toEqual(['qa-other', 'qa-n1']);
  });

  it('needs DATABASE_URL, and names it (a configuration error: exit 2)', async () => {
    const context = contextWith(null);
    expect(await runCli(['qa', 'status'], context)).toBe(2);
    expect(context.err.join('\n')).toMatch(/DATABASE_URL/);
  });
});
