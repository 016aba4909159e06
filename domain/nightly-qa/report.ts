import type { QaMissionKind } from './mission';

/**
 * A bug nightly QA proved: its test failed twice for the stated reason at the night's revision.
 * Only these open incidents; anything less is a lead.
 */
export interface QaFinding {
  missionId: string;
  /** Dedup key against open incidents, open Steward PRs and monitor links (domain/nightly-qa/finding-signature.ts). */
  signature: string;
  title: string;
  /** The failing test, repository-relative, and the failure it shows. */
  testPath: string;
  expectedFailure: string;
  /** The incident the finding started (null while none, or when it was a duplicate). */
  incidentId: string | null;
  pullRequestUrl: string | null;
  /**
   * The incident's status when the night last heard from it (`pr_opened`, `awaiting_approval`,
   * or how it closed, e.g. `could_not_fix`); absent while none, and in records kept before it was.
   */
  incidentStage?: string;
  /** Set when the finding was already known: what it duplicates, e.g. `incident:<id>`, `pull-request:<url>`, `monitor:<id>`. */
  duplicateOf: string | null;
}

/** A hunch without a failing test: reported, never opened as a bug. */
export interface QaLead {
  missionId: string;
  title: string;
  detail: string;
  areas: string[];
}

export interface ReportedMission {
  id: string;
  kind: QaMissionKind;
  reason: string;
  costUsd: number;
}

export interface SkippedMission {
  id: string;
  kind: QaMissionKind;
  reason: string;
  /** Why it did not run tonight. */
  skippedBecause: 'budget' | 'mission-limit';
}

/** One message per service per night (Slack or the console), and the ledger's record of the night. */
export interface MorningReport {
  service: string;
  night: string;
  nightId: string;
  findings: QaFinding[];
  leads: QaLead[];
  areas: {
    /** Covered tonight and by no earlier night. */
    newlyCovered: string[];
    /** Covered tonight, and by an earlier night too. */
    alreadyCovered: string[];
  };
  missionsRun: ReportedMission[];
  missionsSkipped: SkippedMission[];
  /** Last night's missions not run again tonight, and why ("why not the same missions as last night"); absent in reports kept before it was. */
  notRepeated?: Array<{ id: string; why: string }>;
  costUsd: number;
  budgetUsd: number;
}

/** Nothing found, not even a lead: no message unless the service asks for one. */
export function isQuietNight(report: MorningReport): boolean {
  return report.findings.length === 0 && report.leads.length === 0;
}

export interface ComposeReportInput {
  service: string;
  night: string;
  nightId: string;
  budgetUsd: number;
  missionsRun: Array<ReportedMission & { areas: string[]; findings: QaFinding[]; leads: QaLead[] }>;
  missionsSkipped: SkippedMission[];
  /** Areas earlier nights covered (from the ledger, read before tonight's missions were recorded). */
  previouslyExplored: ReadonlySet<string>;
  /** The plan's notRepeated (domain/nightly-qa/planner.ts). */
  notRepeated?: Array<{ id: string; why: string }>;
}

export function composeMorningReport(input: ComposeReportInput): MorningReport {
  const covered = [...new Set(input.missionsRun.flatMap((m) => m.areas))].sort();
  const costUsd = input.missionsRun.reduce((sum, m) => sum + m.costUsd, 0);
  return {
    service: input.service,
    night: input.night,
    nightId: input.nightId,
    findings: input.missionsRun.flatMap((m) => m.findings),
    leads: input.missionsRun.flatMap((m) => m.leads),
    areas: {
      newlyCovered: covered.filter((a) => !input.previouslyExplored.has(a)),
      alreadyCovered: covered.filter((a) => input.previouslyExplored.has(a)),
    },
    missionsRun: input.missionsRun.map(({ id, kind, reason, costUsd: cost }) => ({ id, kind, reason, costUsd: cost })),
    missionsSkipped: input.missionsSkipped,
    notRepeated: input.notRepeated ?? [],
    costUsd: Math.round(costUsd * 1e6) / 1e6,
    budgetUsd: input.budgetUsd,
  };
}

const usd = (value: number) => `$${value.toFixed(2)}`;

/** The message's text: findings with their PRs first, then leads, coverage, skipped missions and cost. */
export function renderMorningReport(report: MorningReport): string {
  const lines: string[] = [];
  const found = report.findings.filter((f) => f.duplicateOf === null);
  lines.push(`Nightly QA of ${report.service}, night of ${report.night}: ${found.length} finding(s), ${report.leads.length} lead(s), ${usd(report.costUsd)} of ${usd(report.budgetUsd)}`);
  if (report.findings.length > 0) {
    lines.push('Findings (each proven by a test that failed twice):');
    for (const f of report.findings) {
      const where = f.duplicateOf ? `already known as ${f.duplicateOf}` : f.pullRequestUrl ? `PR ${f.pullRequestUrl}` : f.incidentId ? `incident ${f.incidentId}, ${describeIncidentStage(f.incidentStage)}` : 'no incident';
      lines.push(`  - ${f.title} (${f.testPath}): ${where}`);
    }
  }
  if (report.leads.length > 0) {
    lines.push('Leads (no failing test, so not opened):');
    for (const l of report.leads) lines.push(`  - ${l.title}: ${l.detail}`);
  }
  const { newlyCovered, alreadyCovered } = report.areas;
  lines.push(`Areas: ${newlyCovered.length} new (${newlyCovered.join(', ') || 'none'}), ${alreadyCovered.length} covered before (${alreadyCovered.join(', ') || 'none'})`);
  lines.push(`Missions run: ${report.missionsRun.map((m) => `${m.id} (${usd(m.costUsd)})`).join(', ') || 'none'}`);
  if (report.missionsSkipped.length > 0) {
    lines.push(`Missions skipped: ${report.missionsSkipped.map((m) => `${m.id} (${m.skippedBecause === 'budget' ? 'night budget spent' : 'mission limit'})`).join(', ')}`);
  }
  if (report.notRepeated && report.notRepeated.length > 0) {
    lines.push(`Not run again from last night: ${report.notRepeated.map((n) => `${n.id} (${n.why})`).join('; ')}`);
  }
  return lines.join('\n');
}

/** What a finding's incident without a PR is doing, in the report's words. */
export function describeIncidentStage(stage: string | undefined): string {
  if (stage === undefined) return 'no PR yet';
  if (stage === 'awaiting_approval') return 'the fix waits for approval';
  return `no PR (${stage.replace(/_/g, ' ')})`;
}
