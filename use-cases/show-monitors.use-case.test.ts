import { ERROR_TYPES } from '../contracts';
import { NIGHTLY_QA_DEFAULTS, type ServiceConfig } from '../domain/service-config';
import type { GeneratedMonitorRecord } from '../ports/generated-monitors.port';
import type { Monitor } from '../ports/monitors.port';
import { InMemoryCodeHost } from '../test/fakes/in-memory-code-host';
import { InMemoryGeneratedMonitors } from '../test/fakes/in-memory-generated-monitors';
import { listGeneratedMonitors, monitorDensity, type MonitorFigureReaders } from './show-monitors.use-case';

const NOW = new Date('2026-12-02T12:00:00.000Z');
const WINDOW_START = '2026-11-02T12:00:00.000Z';
const SHA = { shop: 'a'.repeat(40), billing: 'b'.repeat(40), local: 'c'.repeat(40) };

const service = (githubRepository: string | null, repository: string): ServiceConfig => ({
  repository,
  defaultBranch: 'main',
  setupCommand: null,
  testCommand: 'npm test',
  buildCommand: null,
  singleTestCommand: 'node --test {file}',
  reproductionDir: 'test',
  githubRepository,
  slackChannel: null,
  rollbackHook: null,
  nightlyQa: NIGHTLY_QA_DEFAULTS,
});

const platformMonitor = (id: string, query: string, createdBySteward = false): Monitor => ({
  id,
  name: id,
  type: 'log alert',
  query,
  message: '',
  tags: [],
  criticalThreshold: 5,
  evaluationWindow: null,
  createdBySteward,
});

const lines = (file: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${file}:${from + i}`);

/**
 * Two services built from acme/shop, one from acme/billing, one local service without a GitHub
 * repository; the registry holds changes inside and outside the 30-day window, monitors that
 * overlap, one that covers a line of another change, and a retired one.
 */
async function scenario() {
  let clock = new Date('2026-10-20T09:00:00.000Z');
  const generated = new InMemoryGeneratedMonitors(() => clock);
  const at = (iso: string) => {
    clock = new Date(iso);
  };
  const monitorOf = (monitorId: string, over: Partial<Omit<GeneratedMonitorRecord, 'createdAt' | 'retiredAt' | 'retiredReason'>>) =>
    generated.recordCreated({
      monitorId,
      generationId: `monitors-acme_shop-${over.changeRef ?? 'pr-10'}`,
      proposalKey: monitorId,
      repository: 'acme/shop',
      service: 'web',
      changeRef: 'pr-10',
      pullRequestNumber: 10,
      sourceSha: 'd'.repeat(40),
      name: `[steward] ${monitorId}`,
      type: 'log alert',
      query: `logs("service:web \\"${monitorId}\\"").index("*").rollup("count").last("5m") > 5`,
      normalizedQuery: monitorId,
      file: 'src/cart.ts',
      literals: [monitorId],
      coveredLines: [],
      critical: 5,
      warning: null,
      thresholdSource: 'baseline',
      evaluatedLocally: true,
      ...over,
    });

  // Outside the window: its monitor counts in the density, its lines not in the share.
  await generated.recordChange({ repository: 'acme/shop', changeRef: 'pr-1', mergeCommit: '1'.repeat(40), newRuntimeLines: lines('src/old.ts', 1, 5) });
  await monitorOf('m-old', { changeRef: 'pr-1', pullRequestNumber: 1, file: 'src/old.ts', coveredLines: lines('src/old.ts', 1, 2), thresholdSource: 'default' });
  at('2026-11-20T10:00:00.000Z');
  await generated.recordChange({ repository: 'acme/shop', changeRef: 'pr-10', mergeCommit: '2'.repeat(40), newRuntimeLines: lines('src/cart.ts', 1, 8) });
  await monitorOf('m-cart', { coveredLines: lines('src/cart.ts', 1, 4) });
  await monitorOf('m-cart-worker', { service: 'worker', coveredLines: lines('src/cart.ts', 3, 6), thresholdSource: 'proposal', type: 'metric alert' });
  at('2026-11-25T10:00:00.000Z');
  await generated.recordChange({ repository: 'acme/shop', changeRef: 'pr-11', mergeCommit: '3'.repeat(40), newRuntimeLines: [...lines('src/cart.ts', 1, 2), ...lines('src/tax.ts', 5, 6)] });
  // src/cart.ts:9 is no line of pr-11: it does not count.
  await monitorOf('m-tax', { changeRef: 'pr-11', pullRequestNumber: 11, file: 'src/tax.ts', coveredLines: [...lines('src/tax.ts', 5, 6), 'src/cart.ts:9'] });
  await monitorOf('m-retired', { changeRef: 'pr-11', pullRequestNumber: 11, coveredLines: lines('src/cart.ts', 1, 2) });
  await generated.markRetired('m-retired', 'its literals were deleted by pr-12');
  at('2026-12-01T10:00:00.000Z');
  await generated.recordChange({ repository: 'acme/shop', changeRef: 'commit-abc', mergeCommit: 'abc', newRuntimeLines: [] });
  await generated.recordChange({ repository: 'acme/billing', changeRef: 'pr-3', mergeCommit: '4'.repeat(40), newRuntimeLines: lines('src/invoice.ts', 1, 3) });

  await generated.recordOutcome('m-cart', 'fired', 'incident-1');
  await generated.recordOutcome('m-cart', 'fired', 'incident-2');
  await generated.recordOutcome('m-cart', 'noise', 'incident-2');
  await generated.recordOutcome('m-tax', 'fired', 'incident-3');
  await generated.recordOutcome('m-tax', 'real', 'incident-3');

  const counted: [string, string][] = [];
  const sourceLines: Record<string, { files: number; lines: number }> = { [`web@${SHA.shop}`]: { files: 20, lines: 1500 }, [`billing@${SHA.billing}`]: { files: 3, lines: 300 }, [`local@${SHA.local}`]: { files: 1, lines: 90 } };
  const readers: MonitorFigureReaders = {
    generated,
    monitors: {
      list: async () => [
        platformMonitor('h-web', 'logs("service:web status:error").index("*").rollup("count").last("5m") > 5'),
        platformMonitor('h-worker', 'avg(last_5m):avg:trace.job.duration{service:worker,env:prod} > 2'),
        platformMonitor('h-billing', 'logs("service:billing status:error").rollup("count").last("5m") > 1'),
        platformMonitor('h-both', 'logs("service:web OR service:billing").rollup("count").last("5m") > 1'),
        platformMonitor('h-admin', 'logs("service:web-admin").rollup("count").last("5m") > 1'),
        // The platform's copy of a generated monitor is counted from the registry, not here.
        platformMonitor('m-cart', 'logs("service:web \\"m-cart\\"").rollup("count").last("5m") > 5', true),
      ],
    },
    codeSearch: {
      countSourceLines: async (name, revision) => {
        counted.push([name, revision]);
        const figure = sourceLines[`${name}@${revision}`];
        if (!figure) throw new Error(`no source counted for ${name} at ${revision}`);
        return figure;
      },
    },
    codeHost: new InMemoryCodeHost({ repositories: { 'acme/shop': { main: SHA.shop }, 'acme/billing': { main: SHA.billing }, '/srv/local': { main: SHA.local } } }),
    services: { web: service('acme/shop', '/srv/shop'), billing: service('acme/billing', '/srv/billing'), worker: service('acme/shop', '/srv/shop'), local: service(null, '/srv/local') },
  };
  return { readers, counted, generated };
}

describe('monitorDensity', () => {
  it('gives each repository its monitors, source lines, lines per monitor and the 30-day coverage share, as counted by hand', async () => {
    const { readers, counted } = await scenario();
    const view = await monitorDensity(readers, { service: null, now: NOW });
    expect(view.at).toBe(NOW.toISOString());
    expect(view.repositories.map((r) => r.repository)).toEqual(['acme/shop', 'acme/billing', 'local']);
    const [shop, billing, local] = view.repositories;

    // 4 active generated (m-old, m-cart, m-cart-worker, m-tax) + 3 hand-written naming web or worker (h-web, h-worker, h-both).
    expect(shop).toEqual({
      repository: 'acme/shop',
      services: ['web', 'worker'],
      defaultBranch: 'main',
      revision: SHA.shop,
      monitors: { generated: 4, handWritten: 3, total: 7 },
      source: { files: 20, lines: 1500 },
      linesPerMonitor: 1500 / 7,
      referenceLinesPerMonitor: 75,
      // pr-10 adds 8 lines, pr-11 4, commit-abc none: 12. Covered: cart.ts 1-6 of pr-10 (two monitors overlapping on 3-4) and tax.ts 5-6 of pr-11: 8.
      coverage: { windowDays: 30, since: WINDOW_START, changes: 3, newRuntimeLines: 12, coveredLines: 8, share: 8 / 12, noData: null },
    });
    // h-billing and h-both; no generated monitor, so none of pr-3's 3 lines is covered.
    expect(billing).toMatchObject({
      services: ['billing'],
      monitors: { generated: 0, handWritten: 2, total: 2 },
      source: { files: 3, lines: 300 },
      linesPerMonitor: 150,
      coverage: { changes: 1, newRuntimeLines: 3, coveredLines: 0, share: 0, noData: null },
    });
    expect(local).toMatchObject({
      revision: SHA.local,
      monitors: { generated: 0, handWritten: 0, total: 0 },
      linesPerMonitor: null,
      coverage: { changes: 0, newRuntimeLines: 0, coveredLines: 0, share: null, noData: `no merged change processed since ${WINDOW_START}` },
    });
    // Each repository counted once, through its first service, at its default branch's head.
    expect(counted).toEqual([
      ['web', SHA.shop],
      ['billing', SHA.billing],
      ['local', SHA.local],
    ]);
  });

  it('keeps to the repository of --service, and says so when the window\'s changes added no runtime line', async () => {
    const { readers, generated } = await scenario();
    const view = await monitorDensity(readers, { service: 'worker', now: NOW });
    expect(view.service).toBe('worker');
    expect(view.repositories.map((r) => r.repository)).toEqual(['acme/shop']);

    // Twenty days on, only commit-abc (no runtime line) is in the window.
    const later = new Date('2026-12-22T12:00:00.000Z');
    const [shop] = (await monitorDensity(readers, { service: 'web', now: later })).repositories;
    expect(shop!.coverage).toEqual({
      windowDays: 30,
      since: '2026-11-22T12:00:00.000Z',
      changes: 2,
      newRuntimeLines: 4,
      coveredLines: 2,
      share: 0.5,
      noData: null,
    });
    const [emptyWindow] = (await monitorDensity(readers, { service: 'web', now: new Date('2026-12-30T12:00:00.000Z') })).repositories;
    expect(emptyWindow!.coverage).toMatchObject({ changes: 1, newRuntimeLines: 0, share: null, noData: 'the 1 change processed since 2026-11-30T12:00:00.000Z added no runtime line' });
    expect(await generated.listChanges({ repository: 'acme/shop', since: '2026-01-01T00:00:00.000Z' })).toHaveLength(4);
  });

  it('refuses a service the services file does not name, saying which it does', async () => {
    const { readers } = await scenario();
    await expect(monitorDensity(readers, { service: 'nowhere', now: NOW })).rejects.toMatchObject({
      type: ERROR_TYPES.serviceNotConfigured,
      message: 'no service "nowhere" in the services file; configured: web, billing, worker, local',
    });
  });

  it('fails when the default branch cannot be resolved, instead of counting nothing', async () => {
    const { readers } = await scenario();
    readers.services = { ...readers.services, ghost: service('acme/ghost', '/srv/ghost') };
    await expect(monitorDensity(readers, { service: 'ghost', now: NOW })).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });
});

describe('listGeneratedMonitors', () => {
  it('lists every active generated monitor, oldest first, with its change, file and tallies', async () => {
    const { readers } = await scenario();
    const list = await listGeneratedMonitors(readers, { service: null });
    expect(list.service).toBeNull();
    expect(list.monitors.map((m) => [m.monitorId, m.service, m.changeRef, m.pullRequestNumber, m.file, m.fires, m.noiseVerdicts, m.realIncidents, m.thresholdSource])).toEqual([
      ['m-old', 'web', 'pr-1', 1, 'src/old.ts', 0, 0, 0, 'default'],
      ['m-cart', 'web', 'pr-10', 10, 'src/cart.ts', 2, 1, 0, 'baseline'],
      ['m-cart-worker', 'worker', 'pr-10', 10, 'src/cart.ts', 0, 0, 0, 'proposal'],
      ['m-tax', 'web', 'pr-11', 11, 'src/tax.ts', 1, 0, 1, 'baseline'],
    ]);
    expect(list.monitors[1]).toEqual({
      monitorId: 'm-cart',
      name: '[steward] m-cart',
      type: 'log alert',
      service: 'web',
      repository: 'acme/shop',
      changeRef: 'pr-10',
      pullRequestNumber: 10,
      commit: 'd'.repeat(40),
      file: 'src/cart.ts',
      createdAt: '2026-11-20T10:00:00.000Z',
      fires: 2,
      noiseVerdicts: 1,
      realIncidents: 0,
      thresholdSource: 'baseline',
    });
  });

  it('keeps to one service, and refuses one the services file does not name', async () => {
    const { readers } = await scenario();
    expect((await listGeneratedMonitors(readers, { service: 'worker' })).monitors.map((m) => m.monitorId)).toEqual(['m-cart-worker']);
    expect((await listGeneratedMonitors(readers, { service: 'billing' })).monitors).toEqual([]);
    await expect(listGeneratedMonitors(readers, { service: 'nowhere' })).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
  });
});
