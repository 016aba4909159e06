import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PostgresGeneratedMonitors } from '../../adapters/postgres-generated-monitors.adapter';
import { upsertMonitor } from '../../adapters/postgres-monitors.adapter';
import { createTestDatabase } from '../../test/support/database';
import { buildCliContext } from '../../workers/cli-context';
import type { CliIo } from '../context';
import { parseCommandLine, runCli } from '../program';

/**
 * `steward monitors list` and `steward monitors density` through the CLI's real composition: the
 * registry and the embedded monitor store in a test database, the local git code host and git code
 * search over two repositories made here, so every figure below is counted by hand from them.
 */
describe('steward monitors list / density', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  let shopHead: string;
  let billingHead: string;

  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } }).trim();
  function repository(name: string, files: Record<string, string>): string {
    const dir = path.join(scratch, name);
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '.');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'init');
    return git(dir, 'rev-parse', 'HEAD');
  }

  const generatedMonitor = (monitorId: string, over: Partial<Parameters<PostgresGeneratedMonitors['recordCreated']>[0]>) => ({
    monitorId,
    generationId: `monitors-checkout-${over.changeRef ?? 'pr-5'}`,
    proposalKey: monitorId,
    repository: 'checkout',
    service: 'checkout',
    changeRef: 'pr-5',
    pullRequestNumber: 5,
    sourceSha: shopHead,
    name: `[steward] ${monitorId} errors`,
    type: 'log alert',
    query: `logs("service:checkout \\"${monitorId}\\"").index("*").rollup("count").last("5m") > 5`,
    normalizedQuery: monitorId,
    file: 'src/pricing.js',
    literals: [monitorId],
    coveredLines: [],
    critical: 5,
    warning: null,
    thresholdSource: 'baseline' as const,
    evaluatedLocally: true,
    ...over,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-monitor-figures-'));
    // Non-blank lines: 3 in pricing.js, 1 in its test; the lockfile is not source.
    shopHead = repository('shop', { 'src/pricing.js': 'const a = 1;\n\nconst b = 2;\nmodule.exports = { a, b };\n', 'test/pricing.test.js': "test('a', () => {});\n", 'package-lock.json': '{}\n' });
    billingHead = repository('billing', { 'src/invoice.js': 'const total = 0;\nmodule.exports = { total };\n' });
    const service = (dir: string) => ({ repository: path.join(scratch, dir), testCommand: 'npm test', singleTestCommand: 'node --test {file}' });
    const servicesFile = path.join(scratch, 'services.json');
    fs.writeFileSync(servicesFile, JSON.stringify({ checkout: service('shop'), billing: service('billing') }));
    env = { DATABASE_URL: database.url, STEWARD_SERVICES_FILE: servicesFile, STEWARD_DATA_DIR: path.join(scratch, 'data') };

    const registry = new PostgresGeneratedMonitors(database.pool);
    await registry.recordCreated(generatedMonitor('g-refund', { coveredLines: ['src/pricing.js:1', 'src/pricing.js:3'] }));
    await registry.recordCreated(generatedMonitor('g-commit', { changeRef: 'commit-abc123', pullRequestNumber: null, thresholdSource: 'default', file: 'src/tax.js' }));
    await registry.recordCreated(generatedMonitor('g-retired', { coveredLines: ['src/pricing.js:4'] }));
    await registry.markRetired('g-retired', 'its literals were deleted');
    await registry.recordOutcome('g-refund', 'fired', 'incident-1');
    await registry.recordOutcome('g-refund', 'noise', 'incident-1');
    await registry.recordOutcome('g-refund', 'fired', 'incident-2');
    await registry.recordChange({ repository: 'checkout', changeRef: 'pr-5', mergeCommit: shopHead, newRuntimeLines: ['src/pricing.js:1', 'src/pricing.js:3', 'src/pricing.js:4'] });
    await registry.recordChange({ repository: 'checkout', changeRef: 'commit-abc123', mergeCommit: 'abc123', newRuntimeLines: ['src/tax.js:1'] });
    // Processed 40 days ago: outside the window, its lines count for nothing.
    await registry.recordChange({ repository: 'checkout', changeRef: 'pr-2', mergeCommit: shopHead, newRuntimeLines: ['src/pricing.js:1', 'src/pricing.js:2'] });
    await database.pool.query("UPDATE generated_monitor_changes SET processed_at = now() - interval '40 days' WHERE change_ref = 'pr-2'");

    const handWritten = { type: 'log alert', message: '', tags: [], criticalThreshold: 1, evaluationWindow: null };
    await upsertMonitor(database.pool, { ...handWritten, id: 'h-checkout', name: 'checkout errors', query: 'logs("service:checkout status:error").index("*").rollup("count").last("5m") > 1' });
    await upsertMonitor(database.pool, { ...handWritten, id: 'h-billing', name: 'billing errors', query: 'logs("service:billing status:error").index("*").rollup("count").last("5m") > 1' });
    // Steward's own, made on the platform: the registry counts it (or, not registered, nothing does).
    await upsertMonitor(database.pool, { ...handWritten, id: 'g-refund', name: 'x', query: 'logs("service:checkout").index("*").rollup("count").last("5m") > 1', createdBySteward: true });
  });

  afterAll(async () => {
    await database.drop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  async function run(argv: string[], environment: NodeJS.ProcessEnv = env): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (text) => out.push(text), err: (text) => err.push(text), write: () => undefined };
    const code = await runCli(argv, buildCliContext(io, environment));
    return { code, out, err };
  }

  describe('parsing', () => {
    const parse = async (argv: string[]) => {
      const err: string[] = [];
      const parsed = await parseCommandLine(argv, { out: () => undefined, err: (text) => err.push(text) }, () => 'cli:test');
      return { parsed, err: err.join('\n') };
    };

    it('reads --service and --json, and defaults to every service in plain text', async () => {
      expect((await parse(['monitors', 'density', '--service', 'checkout', '--json'])).parsed).toMatchObject({ ok: true, planned: { request: { command: 'monitors density', service: 'checkout', json: true } } });
      expect((await parse(['monitors', 'list'])).parsed).toMatchObject({ ok: true, planned: { request: { command: 'monitors list', service: null, json: false } } });
    });

    it('refuses an empty --service and an argument neither takes, as usage errors', async () => {
      const empty = await parse(['monitors', 'list', '--service', ' ']);
      expect(empty.parsed).toMatchObject({ ok: false, exitCode: 2 });
      expect(empty.err).toMatch(/--service names a service/);
      expect((await parse(['monitors', 'density', 'checkout'])).parsed).toMatchObject({ ok: false, exitCode: 2 });
    });
  });

  it('lists the active generated monitors, oldest first, with change, file, tallies and where the thresholds came from', async () => {
    const { code, out, err } = await run(['monitors', 'list']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toBe('generated monitors: 2, oldest first');
    const rows = lines.slice(1).map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(['MONITOR', 'SERVICE', 'TYPE', 'CHANGE', 'FILE', 'CREATED', 'FIRES', 'NOISE', 'REAL', 'THRESHOLDS', 'NAME']);
    expect(rows.slice(1).map((row) => [...row.slice(0, 5), ...row.slice(6)])).toEqual([
      ['g-refund', 'checkout', 'log alert', '#5', 'src/pricing.js', '2', '1', '0', 'baseline', '[steward] g-refund errors'],
      ['g-commit', 'checkout', 'log alert', shopHead.slice(0, 12), 'src/tax.js', '0', '0', '0', 'default', '[steward] g-commit errors'],
    ]);
    expect(rows[1]![5]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('lists one service\'s, says when it has none, and gives one JSON object with --json', async () => {
    expect((await run(['monitors', 'list', '--service', 'billing'])).out).toEqual(['generated monitors of billing: none']);
    const { code, out } = await run(['monitors', 'list', '--service', 'checkout', '--json']);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const list = JSON.parse(out[0]!) as { service: string; monitors: Record<string, unknown>[] };
    expect(list.service).toBe('checkout');
    expect(list.monitors.map((m) => [m.monitorId, m.changeRef, m.pullRequestNumber, m.commit, m.fires, m.noiseVerdicts, m.realIncidents])).toEqual([
      ['g-refund', 'pr-5', 5, shopHead, 2, 1, 0],
      ['g-commit', 'commit-abc123', null, shopHead, 0, 0, 0],
    ]);
  });

  it('prints each repository\'s density, and says plainly which figure has no data', async () => {
    const { code, out, err } = await run(['monitors', 'density']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join('\n');
    const window = text.match(/no merged change processed since (\S+)\)/);
    expect(window).not.toBeNull();
    expect(Math.abs(Date.now() - 30 * 86_400_000 - Date.parse(window![1]!))).toBeLessThan(60_000);
    expect(text).toBe(
      [
        `checkout (service checkout) at main ${shopHead.slice(0, 12)}`,
        // 2 generated (g-refund, g-commit) and h-checkout.
        '  monitors: 3 (generated 2, hand-written 1)',
        '  source lines: 4 in 2 files',
        '  lines per monitor: 1.3 (reference: 1 monitor per 75 lines)',
        // pr-5's 3 lines and the commit's 1; g-refund covers pricing.js 1 and 3 of pr-5, the retired monitor nothing.
        '  new runtime lines covered, last 30 days: 2 of 4 (50.0%), over 2 processed changes',
        '',
        `billing (service billing) at main ${billingHead.slice(0, 12)}`,
        '  monitors: 1 (generated 0, hand-written 1)',
        '  source lines: 2 in 1 files',
        '  lines per monitor: 2 (reference: 1 monitor per 75 lines)',
        `  new runtime lines covered, last 30 days: no data (no merged change processed since ${window![1]})`,
      ].join('\n'),
    );
  });

  it('gives one JSON object with --json, for the repository of --service', async () => {
    const { code, out } = await run(['monitors', 'density', '--service', 'checkout', '--json']);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const view = JSON.parse(out[0]!) as { service: string; repositories: Record<string, unknown>[] };
    expect(view.service).toBe('checkout');
    expect(view.repositories).toEqual([
      {
        repository: 'checkout',
        services: ['checkout'],
        defaultBranch: 'main',
        revision: shopHead,
        monitors: { generated: 2, handWritten: 1, total: 3 },
        source: { files: 2, lines: 4 },
        linesPerMonitor: 4 / 3,
        referenceLinesPerMonitor: 75,
        coverage: { windowDays: 30, since: expect.any(String), changes: 2, newRuntimeLines: 4, coveredLines: 2, share: 0.5, noData: null },
      },
    ]);
  });

  it('fails with exit 1 naming the configured services for a service the services file does not name', async () => {
    for (const subcommand of ['list', 'density']) {
      const { code, out, err } = await run(['monitors', subcommand, '--service', 'nowhere']);
      expect(code).toBe(1);
      expect(out).toEqual([]);
      expect(err).toEqual(['steward: no service "nowhere" in the services file; configured: checkout, billing']);
    }
  });

  it('names DATABASE_URL when it is not set, and fails naming the command when the database cannot be reached', async () => {
    const missing = await run(['monitors', 'list'], { ...env, DATABASE_URL: undefined });
    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toMatch(/DATABASE_URL is not set: monitors list reads the registry of generated monitors/);
    const unreachable = await run(['monitors', 'density'], { ...env, DATABASE_URL: 'postgres://steward@127.0.0.1:1/none' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.err.join('\n')).toMatch(/^steward: monitors density failed: /);
  });
});
