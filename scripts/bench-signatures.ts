import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../config/config';
import { LogTemplateMiner } from '../domain/log-template-miner';

/**
 * `npm run bench:signatures`: how well the template miner groups log lines, on public labelled
 * data nobody here wrote — the 2k-line samples of logpai/loghub (`<System>/<System>_2k.log_structured.csv`,
 * whose EventTemplate column is the ground truth, or the corrected labels of logpai/logparser). The data is not committed: point --loghub at a copy
 * (default ../shared/loghub, or STEWARD_LOGHUB_DIR). Prints grouping accuracy per system and on
 * average, and lines per second on one core. A benchmark, not a test: it asserts nothing.
 */
const { values: options } = parseArgs({
  options: {
    loghub: { type: 'string', default: process.env.STEWARD_LOGHUB_DIR ?? path.join(PROJECT_ROOT, '..', 'shared', 'loghub') },
    rounds: { type: 'string', default: '5' },
  },
});
const say = (line: string): void => console.log(`bench | ${line}`);

/** RFC 4180 rows: fields split on commas, quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

interface Labelled {
  system: string;
  corrected: boolean;
  messages: string[];
  events: string[];
}

/**
 * One system's sample: the corrected labels (logpai/logparser's data/loghub_2k_corrected,
 * `<System>_2k.log_structured_corrected.csv`) when the directory holds them, else loghub's own.
 * Lines are grouped by their true EventTemplate, as logparser's evaluator does: the corrected
 * Linux sample gives two EventIds the same template.
 */
function loadSystem(dir: string, system: string): Labelled | null {
  const file = [`${system}_2k.log_structured_corrected.csv`, `${system}_2k.log_structured.csv`].map((name) => path.join(dir, system, name)).find((f) => fs.existsSync(f));
  if (!file) return null;
  const [header, ...rows] = parseCsv(fs.readFileSync(file, 'utf8')).filter((r) => r.length > 1);
  const content = header!.indexOf('Content');
  const event = header!.indexOf('EventTemplate');
  return { system, corrected: file.endsWith('_corrected.csv'), messages: rows.map((r) => r[content]!), events: rows.map((r) => r[event]!) };
}

/**
 * Grouping accuracy (Zhu et al., ICSE-SEIP 2019): the share of lines whose predicted group holds
 * exactly the lines of their true event, no more and no fewer.
 */
export function groupingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  const groups = (labels: readonly string[]): Map<string, number[]> => {
    const byLabel = new Map<string, number[]>();
    labels.forEach((label, i) => byLabel.set(label, [...(byLabel.get(label) ?? []), i]));
    return byLabel;
  };
  const truthGroups = groups(truth);
  let correct = 0;
  for (const lines of groups(predicted).values()) {
    const truthOfFirst = truthGroups.get(truth[lines[0]!]!)!;
    if (truthOfFirst.length === lines.length && lines.every((line) => truth[line] === truth[lines[0]!])) correct += lines.length;
  }
  return correct / truth.length;
}

function main(): void {
  const dir = path.resolve(options.loghub!);
  const systems = fs.existsSync(dir) ? fs.readdirSync(dir).sort().map((system) => loadSystem(dir, system)).filter((s): s is Labelled => s !== null) : [];
  if (systems.length === 0) {
    say(`not run: no loghub 2k samples under ${dir} (<System>/<System>_2k.log_structured.csv); pass --loghub <dir> or set STEWARD_LOGHUB_DIR`);
    process.exit(1);
  }
  const labels = systems.every((s) => s.corrected) ? 'corrected labels (loghub_2k_corrected)' : systems.some((s) => s.corrected) ? 'mixed labels' : "loghub's original labels";
  say(`data: ${systems.length} systems of logpai/loghub's 2k-line labelled samples, ${labels}, from ${dir}`);
  const accuracies: number[] = [];
  for (const { system, messages, events } of systems) {
    const miner = new LogTemplateMiner();
    const predicted = miner.mineAll(messages).map((m) => m.id);
    const ga = groupingAccuracy(predicted, events);
    accuracies.push(ga);
    say(`${system.padEnd(12)} GA ${ga.toFixed(3)}  (${new Set(events).size} true events, ${new Set(predicted).size} signatures given, ${miner.templates.length} templates learnt)`);
  }
  say(`average GA ${(accuracies.reduce((a, b) => a + b, 0) / accuracies.length).toFixed(3)} over ${accuracies.length} systems (goal: 0.95)`);

  const all = systems.flatMap((s) => s.messages);
  const rounds = Number(options.rounds);
  new LogTemplateMiner().mineAll(all); // warm-up: the JIT, not the miner, is what a first round measures
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  for (let round = 0; round < rounds; round += 1) for (const { messages } of systems) new LogTemplateMiner().mineAll(messages);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU time is what one core spent; on a machine shared with other work the wall clock also counts the waits for a core.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const lines = all.length * rounds;
  say(
    `throughput: ${Math.round(lines / seconds).toLocaleString('en')} lines/s on one core by the wall clock, ${Math.round(lines / cpuSeconds).toLocaleString('en')} by CPU time ` +
      `(${all.length} lines × ${rounds} rounds in ${seconds.toFixed(2)} s, ${cpuSeconds.toFixed(2)} s of CPU; goal: 200,000)`,
  );
}

if (require.main === module) main();
