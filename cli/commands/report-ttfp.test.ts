import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { loadCliConfig } from '../../config/cli.config';
import type { History, IncidentHistoriesPort, ListedIncident } from '../../ports/incident-histories.port';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { runCli } from '../program';

/** An honest fake of the histories port: recorded histories, listed as visibility would list them, whatever the query. */
class RecordedHistories implements IncidentHistoriesPort {
  readonly queries: string[] = [];
  readonly fetched: string[] = [];
  constructor(private readonly runs: { listed: ListedIncident; history: History }[]) {}

  async *listIncidents(query: string): AsyncIterable<ListedIncident> {
    this.queries.push(query);
    for (const run of this.runs) yield run.listed;
  }

  async fetchHistory(incidentId: string, runId: string): Promise<History> {
    this.fetched.push(incidentId);
    const run = this.runs.find((r) => r.listed.incidentId === incidentId && r.listed.runId === runId);
    if (!run) throw new Error(`no history for ${incidentId} ${runId}`);
    return run.history;
  }
}

const HISTORIES = path.join(__dirname, '..', '..', 'test', 'histories');
function recorded(file: string, listed: Partial<ListedIncident>): { listed: ListedIncident; history: History } {
  const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')));
  const incidentId = `incident-${file.replace(/\.json$/, '')}`;
  return { history, listed: { incidentId, runId: `run-${incidentId}`, service: 'checkout-service', startedAt: '2026-12-02T21:00:00.000Z', status: 'COMPLETED', pullRequestUrl: `local-git://checkout-service/pulls/${file.length}`, ...listed } };
}

describe('steward report ttfp', () => {
  let histories: RecordedHistories;

  function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const unused = (): never => {
      throw new Error('report ttfp reads only the incident histories');
    };
    const context: CliContext = cliContextFor({
      io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unused },
      config: () => loadCliConfig({}),
      openIncidentHistories: async () => ({ histories, close: async () => undefined }),
    });
    return runCli(argv, context).then((code) => ({ code, out, err }));
  }

  beforeEach(() => {
    histories = new RecordedHistories([
      recorded('pr-merged-while-followed.json', {}),
      recorded('approved-at-the-gate.json', {}),
      // No PR url on visibility: its history is not read.
      recorded('rejected-at-the-gate.json', { pullRequestUrl: null }),
    ]);
  });

  it('prints one JSON object: each incident with a PR and its split, the incidents without one, and the p50 and p90', async () => {
    const { code, out, err } = await run(['report', 'ttfp', '--since', '2026-12-01', '--service', 'checkout-service', '--json']);
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(histories.queries).toEqual(["WorkflowType = 'incidentWorkflow' AND StartTime >= '2026-12-01T00:00:00.000Z' AND StewardService = 'checkout-service'"]);
    expect(histories.fetched.sort()).toEqual(['incident-approved-at-the-gate', 'incident-pr-merged-while-followed']);
    const report = JSON.parse(out[0]!) as {
      incidents: { incidentId: string; totalMs: number; agentMs: number; humanMs: number; queueingMs: number; otherMs: number; approvalWaits: number }[];
      withoutPullRequest: unknown[];
      percentiles: { p50: { totalMs: number }; p90: { totalMs: number } };
    };
    expect(report.withoutPullRequest).toEqual([{ incidentId: 'incident-rejected-at-the-gate', runId: 'run-incident-rejected-at-the-gate', status: 'COMPLETED' }]);
    // Oldest receipt first; only the approved one waited at the gate (the other's severity is below it).
    expect(report.incidents.map((i) => [i.incidentId, i.approvalWaits])).toEqual([
      ['incident-pr-merged-while-followed', 0],
      ['incident-approved-at-the-gate', 1],
    ]);
    for (const incident of report.incidents) {
      expect(incident.agentMs + incident.humanMs + incident.queueingMs + incident.otherMs).toBeCloseTo(incident.totalMs, 3);
    }
    const totals = report.incidents.map((i) => i.totalMs).sort((a, b) => a - b);
    // Two incidents, nearest rank: the p50 is the smaller, the p90 the larger.
    expect(report.percentiles.p50.totalMs).toBe(totals[0]);
    expect(report.percentiles.p90.totalMs).toBe(totals[1]);
  });

  it('prints a table of the incidents with their parts, then the p50 and p90', async () => {
    const { code, out, err } = await run(['report', 'ttfp']);
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(histories.queries).toEqual(["WorkflowType = 'incidentWorkflow'"]);
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toBe("time to first PR: 2 incidents with a PR, 1 without (WorkflowType = 'incidentWorkflow')");
    expect(lines[1]!.split(/\s{2,}/)).toEqual(['INCIDENT', 'SERVICE', 'RECEIVED', 'TOTAL', 'AGENT', 'HUMAN', 'QUEUEING', 'OTHER']);
    const row = lines.find((line) => line.startsWith('incident-approved-at-the-gate'))!.split(/\s{2,}/);
    // The figures are the recording's (they move with each re-recording); the receipt is its first event's time.
    const receivedAt = recorded('approved-at-the-gate.json', {}).history.events![0]!.eventTime!;
    const received = new Date(Number(receivedAt.seconds) * 1000 + Math.floor((receivedAt.nanos ?? 0) / 1e6)).toISOString();
    const duration = expect.stringMatching(/^(\d+ms|\d+\.\d\ds)$/);
    expect(row).toEqual(['incident-approved-at-the-gate', 'checkout-service', received, duration, duration, '0ms', duration, duration]);
    const [total, agent] = row.slice(3, 5).map((text) => (text.endsWith('ms') ? Number(text.slice(0, -2)) : Number(text.slice(0, -1)) * 1000));
    expect(agent).toBeLessThanOrEqual(total!);
    expect(lines.filter((line) => /^p(50|90) /.test(line))).toHaveLength(2);
  });

  it('is listed under report in --help, beside report rejections', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/^  report ttfp \[options\] +time to first PR/m);
    expect(out.join('\n')).toMatch(/^  report rejections \[options\] +the approval gate's rejections as preference pairs/m);
  });

  it('says where it could not reach Temporal', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const unreachable = (): never => {
      throw new Error('only openIncidentHistories is expected');
    };
    const context: CliContext = cliContextFor({
      io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unreachable },
      config: () => loadCliConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      openIncidentHistories: () => Promise.reject(new Error('connection refused')),
    });
    expect(await runCli(['report', 'ttfp'], context)).toBe(1);
    expect(err).toEqual(['steward: cannot reach Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS): connection refused']);
    expect(out).toEqual([]);
  });

  it.each([
    [['report', 'ttfp', '--since', 'last week'], /--since: a date \(2026-12-01, midnight UTC\) or an ISO time/],
    [['report', 'ttfp', '--service', "checkout' OR 1=1"], /--service: a service name, without quotes or backslashes/],
  ])('refuses %j as bad usage', async (argv, message) => {
    const { code, err } = await run(argv);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
    expect(histories.queries).toEqual([]);
  });
});
