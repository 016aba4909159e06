import type { MorningReport } from '../domain/nightly-qa/report';
import type { QaLedgerPort, QaMissionRecord } from '../ports/qa-ledger.port';

/**
 * What every QaLedgerPort must do: one suite, run against Postgres (postgres-qa-ledger.adapter.test.ts)
 * and the in-memory fake the workflow tests use (test/fakes/in-memory-qa-ledger.test.ts). Stores
 * may be shared: each test names its own service.
 */
let sequence = 0;

export function describeQaLedgerContract(name: string, store: () => QaLedgerPort): void {
  describe(`${name}: QA ledger contract`, () => {
    let service: string;
    beforeEach(() => {
      sequence += 1;
      service = `qa-${process.pid}-${sequence}`;
    });

    const start = (nightId: string, startedAt: string) => store().startNight({ nightId, service, night: startedAt.slice(0, 10), revision: 'abc123', startedAt, budgetUsd: 5 });
    const mission = (nightId: string, missionId: string, overrides: Partial<QaMissionRecord> = {}): QaMissionRecord => ({
      nightId,
      missionId,
      service,
      kind: 'probe-least-explored',
      reason: 'never explored',
      status: 'done',
      areas: ['src/coupon.js'],
      filesRead: ['src/coupon.js'],
      commandsRun: ['node --test test/'],
      testsWritten: ['test/coupon.qa.test.js'],
      findings: [],
      leads: [{ missionId, title: 'rounding', detail: 'looks odd', areas: ['src/coupon.js'] }],
      costUsd: 0.25,
      turns: 4,
      recordedAt: '2026-12-01T02:10:00.000Z',
      ...overrides,
    });
    const report = (nightId: string): MorningReport => ({
      service,
      night: '2026-12-01',
      nightId,
      findings: [],
      leads: [],
      areas: { newlyCovered: ['src/coupon.js'], alreadyCovered: [] },
      missionsRun: [{ id: 'probe:src/coupon.js', kind: 'probe-least-explored', reason: 'never explored', costUsd: 0.25 }],
      missionsSkipped: [],
      costUsd: 0.25,
      budgetUsd: 5,
    });

    it('keeps a night with its missions and report, as written', async () => {
      const nightId = `${service}-night-1`;
      await start(nightId, '2026-12-01T02:00:00.000Z');
      await store().recordMission(mission(nightId, 'probe:src/coupon.js'));
      await store().finishNight(nightId, { status: 'done', costUsd: 0.25, report: report(nightId), finishedAt: '2026-12-01T02:30:00.000Z' });
      const night = await store().night(nightId);
      expect(night).toEqual({
        nightId,
        service,
        night: '2026-12-01',
        revision: 'abc123',
        startedAt: '2026-12-01T02:00:00.000Z',
        budgetUsd: 5,
        finishedAt: '2026-12-01T02:30:00.000Z',
        status: 'done',
        costUsd: 0.25,
        report: report(nightId),
        missions: [mission(nightId, 'probe:src/coupon.js')],
      });
    });

    it('starts a night once and replaces a mission written again', async () => {
      const nightId = `${service}-night-1`;
      await start(nightId, '2026-12-01T02:00:00.000Z');
      await store().startNight({ nightId, service, night: '2026-12-09', revision: null, startedAt: '2026-12-09T02:00:00.000Z', budgetUsd: 1 });
      await store().recordMission(mission(nightId, 'm1', { status: 'failed' }));
      await store().recordMission(mission(nightId, 'm1', { status: 'done', turns: 9 }));
      const night = (await store().night(nightId))!;
      expect(night).toMatchObject({ night: '2026-12-01', revision: 'abc123', budgetUsd: 5, status: 'running', report: null, finishedAt: null });
      expect(night.missions.map((m) => [m.missionId, m.status, m.turns])).toEqual([['m1', 'done', 9]]);
    });

    it('refuses a mission or a finish of a night it never started', async () => {
      await expect(store().recordMission(mission(`${service}-nowhere`, 'm1'))).rejects.toThrow(/no night/);
      await expect(store().finishNight(`${service}-nowhere`, { status: 'done', costUsd: 0, report: report('x'), finishedAt: '2026-12-01T02:30:00.000Z' })).rejects.toThrow(/no night/);
    });

    it('lists the latest nights first, per service and for all', async () => {
      await start(`${service}-a`, '2026-12-01T02:00:00.000Z');
      await start(`${service}-b`, '2026-12-02T02:00:00.000Z');
      await start(`${service}-c`, '2026-12-03T02:00:00.000Z');
      expect((await store().recentNights(service, 2)).map((n) => n.nightId)).toEqual([`${service}-c`, `${service}-b`]);
      expect(await store().recentNights(`${service}-other`, 5)).toEqual([]);
      const all = (await store().recentNightsOfAll(1000)).map((n) => n.nightId);
      expect(all.indexOf(`${service}-c`)).toBeLessThan(all.indexOf(`${service}-a`));
    });

    it('gives each area its last exploration by a mission that ran, not by a skipped one', async () => {
      await start(`${service}-a`, '2026-12-01T02:00:00.000Z');
      await start(`${service}-b`, '2026-12-02T02:00:00.000Z');
      await store().recordMission(mission(`${service}-a`, 'm1', { areas: ['src/a.js', 'src/b.js'], recordedAt: '2026-12-01T02:10:00.000Z' }));
      await store().recordMission(mission(`${service}-b`, 'm2', { areas: ['src/a.js'], recordedAt: '2026-12-02T02:10:00.000Z' }));
      await store().recordMission(mission(`${service}-b`, 'm3', { areas: ['src/c.js'], status: 'skipped-budget', recordedAt: '2026-12-02T02:20:00.000Z' }));
      expect(await store().areaHistory(service)).toEqual([
        { area: 'src/a.js', lastExploredAt: '2026-12-02T02:10:00.000Z', missions: 2 },
        { area: 'src/b.js', lastExploredAt: '2026-12-01T02:10:00.000Z', missions: 1 },
      ]);
    });
  });
}
