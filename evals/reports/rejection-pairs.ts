import { z } from 'zod';
import { TriageResult } from '../../domain/triage';
import { describeIssues } from '../../lib/describe-issues';
import type { LedgerIncident, RecordedPullRequestFix, RecordedRejection } from '../../ports/approval-outcomes.port';

/**
 * The approval gate's rejections as preference pairs, in the standard preference format of
 * preference-tuning tools (TRL's DPO trainer among them): `prompt`, `chosen`, `rejected`, all
 * strings, one JSON object per line, with metadata beside them in flat fields.
 *
 * - prompt: the incident's context as the ledger keeps it (alert title, service, monitor, error
 *   signature, the triage and the reproduction test), rendered as text. It is not the fix agent's
 *   own prompt, which the ledger does not keep; `promptFormat` names the rendering.
 * - rejected: the diff the human rejected, as the gate recorded it.
 * - chosen: the diff of a later PR for the same error (service and signature) that a human let
 *   through: a merged one first, since it landed, else one approved at the gate; the earliest of
 *   those. "Later" means its incident began after the rejection. A PR closed without merging is
 *   not chosen.
 *
 * A rejection with no such PR has no `chosen`, and a DPO trainer cannot read a null one, so it is
 * left out of the pairs and listed in `unpaired`, with why (the CLI counts them on stderr).
 */

export const PROMPT_FORMAT = 'steward-incident-context/v1';

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
  promptFormat: typeof PROMPT_FORMAT;
  incidentId: string;
  service: string | null;
  signature: string;
  reason: string;
  rejectedBy: string;
  rejectedAt: string;
  chosenIncidentId: string;
  chosenPullRequestUrl: string;
  chosenBecause: 'merged' | 'approved';
  /** When the chosen diff was merged or approved. */
  chosenAt: string;
}

export interface UnpairedRejection {
  incidentId: string;
  service: string | null;
  signature: string | null;
  reason: string;
  rejectedBy: string;
  rejectedAt: string;
  /** Why there is no pair, in words. */
  why: string;
}

export interface RejectionPairs {
  /** In the order of the rejections, oldest first. */
  pairs: PreferencePair[];
  unpaired: UnpairedRejection[];
}

/** The parts of the saved IncidentState the prompt reads; checked, since the ledger keeps the state as unchecked JSON. */
const IncidentContext = z.object({
  triage: TriageResult.nullable(),
  reproduction: z
    .object({
      testPath: z.string().nullable(),
      testContent: z.string().nullable(),
      explanation: z.string(),
      match: z.string(),
    })
    .nullable(),
});
type IncidentContext = z.infer<typeof IncidentContext>;

export function incidentPrompt(incidentId: string, incident: LedgerIncident, context: IncidentContext): string {
  const lines = [
    `Incident ${incidentId}: Steward verified a fix for this production error and a human reviews it before its pull request opens.`,
    '',
    `Alert: ${incident.title}`,
    `Service: ${incident.service ?? '(none named)'}; monitor ${incident.monitorId}`,
    `Error signature: ${incident.signature}`,
  ];
  const { triage, reproduction } = context;
  if (triage) {
    lines.push(`Triage: ${triage.verdict}, ${triage.severity}, confidence ${triage.confidence}`, `Reasoning: ${triage.reasoning}`);
    const files = triage.suspectedArea.files.length > 0 ? `${triage.suspectedArea.files.join(', ')}: ` : '';
    lines.push(`Suspected area: ${files}${triage.suspectedArea.summary}`);
  }
  if (reproduction) {
    lines.push('', `Reproduction: ${reproduction.explanation}`, `It fails at the deployed revision: ${reproduction.match}`);
    if (reproduction.testPath !== null && reproduction.testContent !== null) lines.push(`Test ${reproduction.testPath}:`, '```', reproduction.testContent.replace(/\n$/, ''), '```');
  }
  lines.push('', 'Write the fix as a unified diff against the deployed revision, the reproduction test included.');
  return lines.join('\n');
}

interface Chosen {
  fix: RecordedPullRequestFix;
  because: PreferencePair['chosenBecause'];
  diff: string;
  at: string;
}

function acceptedDiff(fix: RecordedPullRequestFix): Chosen | null {
  if (fix.resolution?.merged === false) return null;
  if (fix.resolution?.merged) {
    const diff = fix.approval?.diff ?? fix.verifiedDiff;
    return diff ? { fix, because: 'merged', diff, at: fix.resolution.at } : null;
  }
  return fix.approval?.diff ? { fix, because: 'approved', diff: fix.approval.diff, at: fix.approval.decidedAt } : null;
}

function chosenFor(rejection: RecordedRejection, incident: LedgerIncident, fixes: readonly RecordedPullRequestFix[]): Chosen | null {
  const candidates = fixes
    .filter((fix) => fix.incidentId !== rejection.incidentId && fix.service === incident.service && fix.signature === incident.signature)
    .filter((fix) => Date.parse(fix.createdAt) > Date.parse(rejection.decidedAt))
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
    .map(acceptedDiff)
    .filter((chosen): chosen is Chosen => chosen !== null);
  return candidates.find((c) => c.because === 'merged') ?? candidates[0] ?? null;
}

export function rejectionPairs(rejections: readonly RecordedRejection[], fixes: readonly RecordedPullRequestFix[]): RejectionPairs {
  const pairs: PreferencePair[] = [];
  const unpaired: UnpairedRejection[] = [];
  for (const rejection of rejections) {
    const { incident } = rejection;
    const about = {
      incidentId: rejection.incidentId,
      service: incident?.service ?? null,
      signature: incident?.signature ?? null,
      reason: rejection.reason,
      rejectedBy: rejection.decidedBy,
      rejectedAt: rejection.decidedAt,
    };
    if (!incident) {
      unpaired.push({ ...about, why: 'the ledger has no incident row for this decision' });
      continue;
    }
    const context = IncidentContext.safeParse(incident.state);
    if (!context.success) {
      unpaired.push({ ...about, why: `the incident's saved state cannot be read (incidents.state ${describeIssues(context.error)})` });
      continue;
    }
    const chosen = chosenFor(rejection, incident, fixes);
    if (!chosen) {
      unpaired.push({ ...about, why: 'no later PR for the same service and signature was approved or merged' });
      continue;
    }
    pairs.push({
      prompt: incidentPrompt(rejection.incidentId, incident, context.data),
      chosen: chosen.diff,
      rejected: rejection.proposedDiff,
      promptFormat: PROMPT_FORMAT,
      ...about,
      signature: incident.signature,
      chosenIncidentId: chosen.fix.incidentId,
      chosenPullRequestUrl: chosen.fix.pullRequestUrl,
      chosenBecause: chosen.because,
      chosenAt: chosen.at,
    });
  }
  return { pairs, unpaired };
}
