import { composeMorningReport, isQuietNight, renderMorningReport, type MorningReport } from '../../domain/nightly-qa/report';
import { call } from '../incident/activity-proxies';
import type { NightRun } from './night-run';
import type { TonightsPlan } from './planning';

/**
 * The morning report: composed from what the missions did, sent as one message (Slack or the
 * console) unless the night was quiet and the service asked for no quiet-night messages, and kept
 * in the ledger with the night either way, so `steward qa status` and the export have it.
 */
export async function reportMorning(run: NightRun, tonight: TonightsPlan): Promise<MorningReport> {
  run.setStatus('reporting');
  const report = composeReport(run, tonight);
  if (!isQuietNight(report) || run.input.policy.notifyQuietNights) {
    await call(run.activities.notify, `Send ${run.input.service}'s morning report`, {
      key: `${run.nightId}:qa_morning_report`,
      kind: 'qa_morning_report',
      incidentId: run.nightId,
      service: run.input.service,
      title: `Nightly QA of ${run.input.service}, night of ${run.night}`,
      text: renderMorningReport(report),
      links: report.findings.filter((f) => f.pullRequestUrl).map((f) => ({ label: `PR: ${f.title}`, url: f.pullRequestUrl! })),
      qaReport: report,
    });
  } else {
    run.note('A quiet night: no message sent (the services file does not ask for quiet nights); the report is kept in the ledger.');
  }
  await call(run.activities.finishNight, 'Keep the night and its report in the QA ledger', { nightId: run.nightId, status: 'done', costUsd: report.costUsd, report, finishedAt: new Date().toISOString() });
  return report;
}

/**
 * A night that failed on its way (a revision or ledger it could not read, a child it could not
 * start) is kept as failed, with what it did up to then, so `steward qa status` does not show it
 * running forever. The failure itself goes on to the workflow's result.
 */
export async function recordFailedNight(run: NightRun, tonight: TonightsPlan | null): Promise<void> {
  const report = composeReport(run, tonight);
  await call(run.activities.finishNight, 'Keep the failed night in the QA ledger', { nightId: run.nightId, status: 'failed', costUsd: report.costUsd, report, finishedAt: new Date().toISOString() });
}

function composeReport(run: NightRun, tonight: TonightsPlan | null): MorningReport {
  return composeMorningReport({
    service: run.input.service,
    night: run.night,
    nightId: run.nightId,
    budgetUsd: run.input.policy.budgetUsd,
    missionsRun: run.missions
      .filter((m) => m.status === 'done' || m.status === 'failed')
      .map((m) => ({ id: m.plan.id, kind: m.plan.kind, reason: m.note && m.status === 'failed' ? `${m.plan.reason} (failed: ${m.note})` : m.plan.reason, costUsd: m.costUsd, areas: m.areas, findings: m.findings, leads: m.leads })),
    missionsSkipped: run.missions
      .filter((m) => m.status === 'skipped-budget' || m.status === 'skipped-limit')
      .map((m) => ({ id: m.plan.id, kind: m.plan.kind, reason: m.plan.reason, skippedBecause: m.status === 'skipped-budget' ? 'budget' : 'mission-limit' })),
    previouslyExplored: new Set(tonight?.previouslyExplored ?? []),
    notRepeated: tonight?.plan.notRepeated ?? [],
  });
}
