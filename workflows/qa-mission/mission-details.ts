import type { QaMissionOutcome, QaMissionWorkflowInput } from '../../contracts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 160);

/** The Web UI's current details of a mission: what it is about and why tonight, then what came of it. */
export function describeMission(input: QaMissionWorkflowInput, outcome: QaMissionOutcome | null): string {
  const { mission } = input;
  const lines = [
    `**${outcome ? `done (${outcome.endedBecause})` : 'exploring'}** · mission \`${mission.id}\` (${mission.kind}) of ${input.service} at \`${input.revision.slice(0, 12)}\`, night of ${input.night}`,
    `Why tonight: ${mission.reason}`,
    `Areas: ${mission.areas.map((a) => `\`${a}\``).join(', ') || 'none'} · budget $${mission.budgetUsd.toFixed(2)}, ${mission.maxTurns} turns`,
  ];
  if (outcome) {
    lines.push(`${outcome.findings.length} finding(s) · ${outcome.leads.length} lead(s) · ${outcome.turns} turn(s) · $${outcome.costUsd.toFixed(2)} · ${outcome.filesRead.length} file(s) read, ${outcome.commandsRun.length} command(s) run, ${outcome.testsWritten.length} test(s) written`);
    if (outcome.findings.length > 0) {
      lines.push(['| finding | test | fails with | runs |', '|---|---|---|---|', ...outcome.findings.map((f) => `| ${cell(f.title)} | \`${cell(f.testPath)}\` | ${cell(f.expectedFailure)} | ${f.failingRuns} |`)].join('\n'));
    }
    if (outcome.leads.length > 0) lines.push(['| lead | detail |', '|---|---|', ...outcome.leads.map((l) => `| ${cell(l.title)} | ${cell(l.detail)} |`)].join('\n'));
  }
  return lines.join('\n\n');
}
