import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandom } from '../../lib/seeded-random';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { parseCommandLine, runCli } from '../program';

/** A context with output only: `regressions` reads its two files and needs nothing else. */
function contextWith(): { context: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const unused = (): never => {
    throw new Error('regressions must not reach Temporal, Postgres or a sandbox');
  };
  const context: CliContext = cliContextFor({
    io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unused },
  });
  return { context, out, err };
}

const DEPLOYED_AT = '2026-12-01T12:00:00.000Z';
const DEPLOY = Date.parse(DEPLOYED_AT);
const HOUR = 3_600_000;

/** Lines of a Poisson stream at `perHour` over [from, to), each message made by `message`. */
function stream(random: SeededRandom, perHour: number, from: number, to: number, message: (i: number) => string): { timestamp: string; message: string }[] {
  const lines: { timestamp: string; message: string }[] = [];
  let t = from;
  for (let i = 0; ; i += 1) {
    t += (-Math.log(1 - random.next()) / perHour) * HOUR;
    if (t >= to) return lines;
    lines.push({ timestamp: new Date(t).toISOString(), message: message(i) });
  }
}

describe('steward regressions', () => {
  let dir: string;
  const write = (name: string, lines: readonly object[] | string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof lines === 'string' ? lines : lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    return file;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-regressions-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A day of two steady errors; after the deploy, the timeout triples and a new error appears, the disk one stays as it was. */
  function files(): { baseline: string; after: string } {
    const random = new SeededRandom(21);
    const timeout = (i: number) => `timeout calling inventory after ${3000 + (i % 7)} ms for order ${1000 + i}`;
    const disk = (i: number) => `disk usage at ${80 + (i % 9)}% on volume data-${i % 3}`;
    const baseline = [...stream(random, 120, DEPLOY - 24 * HOUR, DEPLOY, timeout), ...stream(random, 60, DEPLOY - 24 * HOUR, DEPLOY, disk)];
    // Shuffled: the command must put after-deploy lines in time order itself.
    const after = [
      ...stream(random, 360, DEPLOY, DEPLOY + HOUR, timeout),
      ...stream(random, 60, DEPLOY, DEPLOY + HOUR, disk),
      ...stream(random, 30, DEPLOY + 5 * 60_000, DEPLOY + HOUR, (i) => `null pointer in PriceCalculator.apply for cart ${i}`),
    ].sort(() => random.next() - 0.5);
    return { baseline: write('baseline.jsonl', baseline), after: write('after.jsonl', after) };
  }

  it('prints the flagged signatures as JSON, each with the poll that flagged it', async () => {
    const { baseline, after } = files();
    const { context, out } = contextWith();
    expect(await runCli(['regressions', '--baseline', baseline, '--after', after, '--deployed-at', DEPLOYED_AT, '--json'], context)).toBe(0);
    const report = JSON.parse(out.join('\n')) as { examined: number; flagged: { signature: string; template: string; baselineCount: number; afterCount: number; flaggedAt: string; kind: string }[] };
    expect(report.examined).toBe(3);
    const byTemplate = new Map(report.flagged.map((entry) => [entry.template, entry]));
    expect([...byTemplate.keys()].sort()).toEqual(['<*> pointer in PriceCalculator.apply for cart <*>', 'timeout calling inventory after <*> for order <*>']);
    const timeout = byTemplate.get('timeout calling inventory after <*> for order <*>')!;
    expect(timeout.kind).toBe('raised');
    expect(timeout.baselineCount).toBeGreaterThan(2000);
    const fresh = byTemplate.get('<*> pointer in PriceCalculator.apply for cart <*>')!;
    expect(fresh).toMatchObject({ kind: 'new', baselineCount: 0 });
    for (const entry of report.flagged) {
      // flaggedAt is a poll instant: a whole number of minutes after the deploy, within the hour.
      const minutes = (Date.parse(entry.flaggedAt) - DEPLOY) / 60_000;
      expect(Number.isInteger(minutes)).toBe(true);
      expect(minutes).toBeGreaterThanOrEqual(1);
      expect(minutes).toBeLessThanOrEqual(60);
      expect(entry.afterCount).toBeGreaterThan(0);
    }
    // The new error starts five minutes in: it cannot be flagged before that.
    expect(Date.parse(fresh.flaggedAt) - DEPLOY).toBeGreaterThan(5 * 60_000);
  });

  it('prints a readable table without --json, and honours --poll and --horizon', async () => {
    const { baseline, after } = files();
    const { context, out } = contextWith();
    expect(await runCli(['regressions', '--baseline', baseline, '--after', after, '--deployed-at', DEPLOYED_AT, '--poll', '5m', '--horizon', '30m'], context)).toBe(0);
    expect(out[0]).toMatch(/^3 signatures examined: \d+ baseline lines over 24 h, 6 polls after/);
    expect(out.join('\n')).toMatch(/flagged at +kind +baseline +after +ratio +log10 E +signature +template/);
    const rows = out.filter((line) => /^2026-12-01T12:\d\d:00\.000Z/.test(line));
    expect(rows.length).toBe(2);
    for (const row of rows) expect(Number(row.slice(14, 16)) % 5).toBe(0);
  });

  it('flags nothing when nothing changed', async () => {
    const random = new SeededRandom(5);
    const message = (i: number) => `cache miss for key user:${i}`;
    const baseline = write('calm-baseline.jsonl', stream(random, 50, DEPLOY - 48 * HOUR, DEPLOY, message));
    const after = write('calm-after.jsonl', stream(random, 50, DEPLOY, DEPLOY + HOUR, message));
    const { context, out } = contextWith();
    expect(await runCli(['regressions', '--baseline', baseline, '--after', after, '--deployed-at', DEPLOYED_AT], context)).toBe(0);
    expect(out).toContain('no signature flagged');
  });

  it('names the file and line of a bad log line', async () => {
    const baseline = write('bad.jsonl', `${JSON.stringify({ timestamp: '2026-12-01T11:00:00Z', message: 'ok' })}\n\n${JSON.stringify({ timestamp: 'yesterday', message: 'x' })}\n`);
    const after = write('good.jsonl', [{ timestamp: '2026-12-01T12:01:00Z', message: 'ok' }]);
    const { context, err } = contextWith();
    expect(await runCli(['regressions', '--baseline', baseline, '--after', after, '--deployed-at', DEPLOYED_AT], context)).toBe(1);
    expect(err.join('\n')).toContain(`--baseline ${baseline} line 3: timestamp: an ISO time`);

    const notJson = write('not-json.jsonl', '{"timestamp": "2026-12-01T12:01:00Z", "message": "ok"}\nnot json\n');
    const second = contextWith();
    expect(await runCli(['regressions', '--baseline', after, '--after', notJson, '--deployed-at', DEPLOYED_AT], second.context)).toBe(1);
    expect(second.err.join('\n')).toContain(`--after ${notJson} line 2: not JSON`);
  });

  it('refuses bad options with a usage error', async () => {
    const quiet = { out: () => undefined, err: () => undefined };
    const parse = (argv: string[]) => parseCommandLine(argv, quiet, () => 'cli:test');
    expect(await parse(['regressions', '--baseline', 'a', '--after', 'b', '--deployed-at', 'noon'])).toMatchObject({ ok: false, exitCode: 2, message: expect.stringContaining('--deployed-at') });
    expect(await parse(['regressions', '--baseline', 'a', '--after', 'b', '--deployed-at', DEPLOYED_AT, '--false-alarm-rate', '2'])).toMatchObject({ ok: false, exitCode: 2, message: expect.stringContaining('--false-alarm-rate') });
    expect(await parse(['regressions', '--baseline', 'a', '--after', 'b', '--deployed-at', DEPLOYED_AT, '--poll', '10m', '--horizon', '5m'])).toMatchObject({ ok: false, exitCode: 2, message: expect.stringContaining('--horizon') });
    expect(await parse(['regressions', '--after', 'b', '--deployed-at', DEPLOYED_AT])).toMatchObject({ ok: false, exitCode: 2 });
    const planned = await parse(['regressions', '--baseline', 'a', '--after', 'b', '--deployed-at', DEPLOYED_AT]);
    expect(planned).toMatchObject({ ok: true, help: false, planned: { request: { command: 'regressions', poll: 60_000, horizon: 3_600_000, falseAlarmRate: 0.01, json: false } } });
  });
});
