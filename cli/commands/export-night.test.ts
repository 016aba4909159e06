import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { loadCliConfig } from '../../config/cli.config';
import type { MorningReport } from '../../domain/nightly-qa/report';
import type { QaMissionRecord, QaNightStart } from '../../ports/qa-ledger.port';
import { InMemoryAgentConversations } from '../../test/fakes/in-memory-agent-conversations';
import { InMemoryQaLedger } from '../../test/fakes/in-memory-qa-ledger';
import { cliContextFor } from '../../test/support/cli-context';
import type { RunExportReaders } from '../../use-cases/export-run.use-case';
import { runCli } from '../program';

/**
 * `steward export <nightId> <dir>` through the CLI, over honest fakes: the night's and its mission's
 * recorded histories, and a QA ledger holding what the night wrote to it (its own ledger calls,
 * read from the recorded history and replayed). The files are read back from the disk.
 */

const HISTORIES = path.join(__dirname, '..', '..', 'test', 'histories');
const NIGHT_ID = 'nightly-qa-test-3-2026-12-03';
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: Record<string, unknown>[] };

/** Each activity's input, by name, in the recorded order. */
function recordedInputs(file: string): { name: string; input: unknown }[] {
  const events = read(file).events as { activityTaskScheduledEventAttributes?: { activityType: { name: string }; input?: { payloads?: { data?: string }[] } } }[];
  return events
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((s) => s !== undefined)
    .map((s) => ({ name: s.activityType.name, input: JSON.parse(Buffer.from(s.input!.payloads![0]!.data!, 'base64').toString('utf8')) }));
}

async function ledgerAfter(file: string): Promise<InMemoryQaLedger> {
  const ledger = new InMemoryQaLedger();
  for (const call of recordedInputs(file)) {
    if (call.name === 'startNight') await ledger.startNight(call.input as QaNightStart);
    if (call.name === 'recordMission') await ledger.recordMission(call.input as QaMissionRecord);
    if (call.name === 'finishNight') {
      const finished = call.input as { nightId: string; status: 'done'; costUsd: number; report: MorningReport; finishedAt: string };
      await ledger.finishNight(finished.nightId, finished);
    }
  }
  return ledger;
}

describe('steward export of a night', () => {
  it('writes the night tree into the directory and names it a night', async () => {
    const histories: Record<string, string> = { [NIGHT_ID]: 'nightly-qa-finding-to-pr.json', [`${NIGHT_ID}/mission-sanity_coupons`]: 'qa-mission-finding.json' };
    const readers: RunExportReaders = {
      history: { fetch: async (id) => (histories[id] ? historyFromJSON(read(histories[id]!)) : null), decode: async (payload) => defaultPayloadConverter.fromPayload(payload) },
      ledger: { getIncident: async () => null, listEvents: async () => [], listFixAttempts: async () => [], getDecision: async () => null, listMonitorChanges: async () => [], listModelUsage: async () => [] },
      qaLedger: await ledgerAfter('nightly-qa-finding-to-pr.json'),
      conversations: new InMemoryAgentConversations(),
      pullRequest: async () => ({ unreadable: 'no code host in this test' }),
      monitor: async (id) => {
        throw new Error(`no monitor platform in this test (monitor ${id})`);
      },
    };
    let closed = false;
    const out: string[] = [];
    const err: string[] = [];
    const context = cliContextFor({
      io: { out: (t) => out.push(t), err: (t) => err.push(t), write: (t) => out.push(t) },
      config: () => loadCliConfig({ DATABASE_URL: 'postgres://steward@127.0.0.1:1/steward' }),
      openRunExport: async () => ({ readers, close: async () => void (closed = true) }),
    });
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-export-night-')), 'night');
    try {
      expect(await runCli(['export', NIGHT_ID, dir], context)).toBe(0);
      expect(err).toEqual([]);
      const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
      expect(out).toEqual([dir, `${files.length} files: the night ${NIGHT_ID}; README.md lists 1 thing(s) not kept`]);
      expect(closed).toBe(true);
      const report = (recordedInputs('nightly-qa-finding-to-pr.json').find((c) => c.name === 'finishNight')!.input as { report: MorningReport }).report;
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'))).toEqual(report);
      expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('ended **done**');
      expect(fs.readFileSync(path.join(dir, 'missions/sanity-coupons/test/test/coupon.qa.test.js'), 'utf8')).toContain("require('../src/server')");
      expect(fs.readFileSync(path.join(dir, 'findings.md'), 'utf8')).toContain(`steward export ${report.findings[0]!.incidentId} <dir>`);
    } finally {
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
