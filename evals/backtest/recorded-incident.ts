import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../../lib/describe-issues';
import { CaseId, CaseMonitor, Provenance, SUITES, type SuiteName, type TriageCase } from '../cases/case.schema';
import { DatadogWebhookPayload } from '../../domain/alert';

/**
 * A back-test case: an alert as the webhook received it, its monitor, and the model's answers for
 * the incident it opened (a transcript the replay model serves, by step). A folder of recorded
 * incidents holds one `<id>.json` per incident (or `<id>/incident.json`); a triage suite's cases
 * become recorded incidents with their recorded triage answers.
 */
export const RecordedIncident = z
  .object({
    id: CaseId,
    description: z.string().min(1).default('a recorded incident'),
    provenance: Provenance,
    alert: DatadogWebhookPayload,
    monitor: CaseMonitor,
    /** The model's answers by step name (`triage`, `reproduce.turn-1`…), as the replay model serves them. */
    transcript: z.object({ label: z.string().min(1), provenance: z.string().min(1), steps: z.record(z.string(), z.object({ response: z.unknown() })) }),
  })
  .strict();
export type RecordedIncident = z.infer<typeof RecordedIncident>;

export class RecordedIncidentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordedIncidentError';
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RecordedIncidentError(`${file}: not readable JSON: ${(error as Error).message}`);
  }
}

/** Every recorded incident of the folder, validated; a malformed one fails with its file and field. */
export function readRecordedIncidents(dir: string): RecordedIncident[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new RecordedIncidentError(`${dir}: not a folder of recorded incidents (nor a suite name)`);
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isFile() && entry.name.endsWith('.json') ? [path.join(dir, entry.name)] : entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'incident.json')) ? [path.join(dir, entry.name, 'incident.json')] : []))
    .sort();
  if (files.length === 0) throw new RecordedIncidentError(`${dir}: holds no recorded incident (<id>.json or <id>/incident.json)`);
  const incidents = files.map((file) => {
    const parsed = RecordedIncident.safeParse(readJson(file));
    if (!parsed.success) throw new RecordedIncidentError(`${file}: ${describeIssues(parsed.error)}`);
    return parsed.data;
  });
  const seen = new Set<string>();
  for (const incident of incidents) {
    if (seen.has(incident.id)) throw new RecordedIncidentError(`${dir}: two recorded incidents have the id ${incident.id}`);
    seen.add(incident.id);
  }
  return incidents;
}

/**
 * A triage case as a recorded incident: its webhook and monitor, and its recorded first repeat's
 * answers under the step names the incident workflow asks (`r1.triage` → `triage`). A case with no
 * recording is left out and named, as `eval run` reports it not run.
 */
export function triageCasesAsIncidents(cases: readonly TriageCase[], recordingOf: (caseId: string) => unknown | null): { incidents: RecordedIncident[]; unrecorded: string[] } {
  const incidents: RecordedIncident[] = [];
  const unrecorded: string[] = [];
  for (const testCase of cases) {
    const recording = recordingOf(testCase.id) as { label?: string; provenance?: string; steps?: Record<string, { response: unknown }> } | null;
    const steps = Object.entries(recording?.steps ?? {}).flatMap(([step, value]) => (step.startsWith('r1.') && step !== 'r1.done' ? [[step.slice(3), value] as const] : []));
    if (!recording || steps.length === 0) {
      unrecorded.push(testCase.id);
      continue;
    }
    incidents.push({
      id: testCase.id,
      description: testCase.description,
      provenance: testCase.provenance,
      alert: testCase.input.webhook,
      monitor: testCase.input.monitor,
      transcript: { label: recording.label ?? 'eval recording', provenance: recording.provenance ?? 'an eval recording', steps: Object.fromEntries(steps) },
    });
  }
  return { incidents, unrecorded };
}

export function isSuiteName(name: string): name is SuiteName {
  return Object.prototype.hasOwnProperty.call(SUITES, name);
}
