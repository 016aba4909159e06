import * as fs from 'node:fs';
import type { Command } from 'commander';
import { CaseStore, CaseStoreError } from '../../evals/cases/case-store';
import type { AttributionCase, SuiteName, TriageCase } from '../../evals/cases/case.schema';
import { EXIT, usageError, type CliCommand, type PlannedCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';
import { caseArgument, datasetsDir, suiteArgument, withDatasetsOption } from './eval';

/**
 * `steward eval list|show|add|edit|replace|remove`: the suites' labelled cases, by their stable
 * ids, for a person or a coding agent. Output is one line a case (or the case), JSON with --json;
 * every write is validated first and refused with the file and field that are wrong.
 */

type Case = TriageCase | AttributionCase;

export interface EvalCasesRequest {
  command: `eval ${'list' | 'show' | 'add' | 'edit' | 'replace' | 'remove'}`;
  suite: SuiteName;
  caseId: string | null;
  datasets: string;
  json: boolean;
  /** list: only cases with this category. */
  tag: string | null;
  /** add, edit, replace: where the JSON comes from; null is standard input. */
  file: string | null;
}

interface CaseOptions {
  datasets?: string;
  json?: boolean;
  tag?: string;
  file?: string;
}

const INPUT_HELP = '\nThe JSON is read from --file, or from standard input when there is none, and validated before anything is written.';

export const evalCasesCommand: CliCommand = {
  register(group, accept) {
    const plan = (command: Command, request: EvalCasesRequest): void => {
      refuseGlobalDecisionOptions(command, request.command);
      const planned: PlannedCommand<EvalCasesRequest> = { request, run: (context) => runCaseCommand(request, context) };
      accept(planned);
    };
    const base = (command: Command, name: EvalCasesRequest['command'], suite: string, caseId: string | null, options: CaseOptions): EvalCasesRequest => ({
      command: name,
      suite: suiteArgument(command, suite),
      caseId: caseId === null ? null : caseArgument(command, caseId),
      datasets: datasetsDir(options),
      json: options.json === true,
      tag: null,
      file: options.file ?? null,
    });

    withDatasetsOption(group.command('list'))
      .description('one line a case: id, verdict and severity (or verdict), difficulty, categories')
      .argument('<suite>', 'triage or deploy-attribution')
      .option('--tag <category>', 'only the cases with this category')
      .option('--json', 'one JSON array of the same fields, with description and provenance')
      .action((suite: string, options: CaseOptions, command: Command) => {
        if (options.tag !== undefined && !/^[a-z0-9-]+$/.test(options.tag)) usageError(command, '--tag names a category: lower-case letters, digits and dashes');
        plan(command, { ...base(command, 'eval list', suite, null, options), tag: options.tag ?? null });
      });

    withDatasetsOption(group.command('show'))
      .description('one case: its labels, provenance and input')
      .argument('<suite>', 'triage or deploy-attribution')
      .argument('<case>', 'the case id, its file name without .json')
      .option('--json', 'the case as one JSON object, defaults filled in')
      .action((suite: string, caseId: string, options: CaseOptions, command: Command) => plan(command, base(command, 'eval show', suite, caseId, options)));

    withDatasetsOption(group.command('add'))
      .description('add a case (its id is its file name); refused when the id exists')
      .argument('<suite>', 'triage or deploy-attribution')
      .option('--file <path>', 'the case as JSON (default: standard input)')
      .addHelpText('after', `${INPUT_HELP}\nExample:\n  npx steward eval add triage --file my-case.json`)
      .action((suite: string, options: CaseOptions, command: Command) => plan(command, base(command, 'eval add', suite, null, options)));

    withDatasetsOption(group.command('edit'))
      .description('apply a JSON merge patch (RFC 7396) to a case: members merge, null removes, arrays are replaced')
      .argument('<suite>', 'triage or deploy-attribution')
      .argument('<case>', 'the case id')
      .option('--file <path>', 'the merge patch as JSON (default: standard input)')
      .addHelpText('after', `${INPUT_HELP}\nExample:\n  echo '{"labels":{"severity":"P2"}}' | npx steward eval edit triage flapping-disk-monitor`)
      .action((suite: string, caseId: string, options: CaseOptions, command: Command) => plan(command, base(command, 'eval edit', suite, caseId, options)));

    withDatasetsOption(group.command('replace'))
      .description('write a whole case over the one of that id; refused when there is none')
      .argument('<suite>', 'triage or deploy-attribution')
      .argument('<case>', 'the case id; the case must name the same id')
      .option('--file <path>', 'the case as JSON (default: standard input)')
      .addHelpText('after', INPUT_HELP)
      .action((suite: string, caseId: string, options: CaseOptions, command: Command) => plan(command, base(command, 'eval replace', suite, caseId, options)));

    withDatasetsOption(group.command('remove'))
      .description('delete a case')
      .argument('<suite>', 'triage or deploy-attribution')
      .argument('<case>', 'the case id')
      .action((suite: string, caseId: string, options: CaseOptions, command: Command) => plan(command, base(command, 'eval remove', suite, caseId, options)));
  },
};

async function runCaseCommand(request: EvalCasesRequest, context: CliContext): Promise<number> {
  const store = new CaseStore(request.datasets);
  const { suite } = request;
  const caseId = request.caseId ?? '';
  try {
    switch (request.command) {
      case 'eval list': {
        const cases = ((await store.list(suite)) as Case[]).filter((c) => request.tag === null || c.categories.includes(request.tag));
        if (request.json) context.io.out(JSON.stringify(cases.map((c) => ({ ...caseSummary(c), description: c.description, provenance: c.provenance.kind }))));
        else if (cases.length === 0) context.io.err(`steward eval: no ${suite} cases${request.tag ? ` with category ${request.tag}` : ''} in ${request.datasets}`);
        else context.io.out(formatCaseLines(cases));
        return EXIT.done;
      }
      case 'eval show': {
        const found = (await store.get(suite, caseId)) as Case;
        context.io.out(request.json ? JSON.stringify(found) : formatCase(found));
        return EXIT.done;
      }
      case 'eval remove':
        await store.remove(suite, caseId);
        context.io.out(`removed ${suite}/${caseId}`);
        return EXIT.done;
      default: {
        const input = await readJsonInput(request, context);
        if (!input.ok) {
          context.io.err(`steward eval: ${input.message}`);
          return EXIT.failed;
        }
        const written =
          request.command === 'eval add'
            ? await store.add(suite, input.value)
            : request.command === 'eval edit'
              ? await store.edit(suite, caseId, input.value)
              : await store.replace(suite, caseId, input.value);
        const verb = { 'eval add': 'added', 'eval edit': 'edited', 'eval replace': 'replaced' }[request.command];
        context.io.out(`${verb} ${suite}/${written.id} (${store.fileOf(suite, written.id)})`);
        return EXIT.done;
      }
    }
  } catch (error) {
    if (!(error instanceof CaseStoreError)) throw error;
    for (const line of error.message.split('\n')) context.io.err(`steward eval: ${line}`);
    return EXIT.failed;
  }
}

async function readJsonInput(request: EvalCasesRequest, context: CliContext): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const from = request.file ?? 'standard input';
  let text: string;
  try {
    text = request.file !== null ? await fs.promises.readFile(request.file, 'utf8') : await (context.io.readInput ?? readStandardInput)();
  } catch (error) {
    return { ok: false, message: `cannot read ${from}: ${(error as Error).message}` };
  }
  if (text.trim() === '') return { ok: false, message: `${from} is empty: ${request.command} reads ${request.command === 'eval edit' ? 'a merge patch' : 'a case'} as JSON` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: `${from} is not JSON: ${(error as Error).message}` };
  }
}

async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The fields of a list line. */
export function caseSummary(c: Case): { id: string; verdict: string; severity: string | null; difficulty: string; categories: string[] } {
  return { id: c.id, verdict: c.labels.verdict, severity: 'severity' in c.labels ? c.labels.severity : null, difficulty: c.difficulty, categories: c.categories };
}

export function formatCaseLines(cases: readonly Case[]): string {
  const rows = cases.map((c) => {
    const s = caseSummary(c);
    return [s.id, s.severity ? `${s.verdict} ${s.severity}` : s.verdict, s.difficulty, s.categories.join(',')];
  });
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  ')).join('\n');
}

export function formatCase(c: Case): string {
  const field = (label: string, value: string): string => `${`${label}:`.padEnd(12)}${value}`;
  const provenance =
    c.provenance.kind === 'hand_written'
      ? `hand_written by ${c.provenance.author}`
      : c.provenance.kind === 'public_data'
        ? `public_data: ${c.provenance.dataset}, ${c.provenance.source}`
        : `captured_run ${c.provenance.incidentId} at ${c.provenance.capturedAt}`;
  const head = [
    c.id,
    c.description,
    '',
    field('verdict', c.labels.verdict),
    ...('severity' in c.labels ? [field('severity', c.labels.severity), ...(c.labels.duplicateOf ? [field('duplicate', c.labels.duplicateOf)] : [])] : []),
    ...('citedLine' in c.labels && c.labels.citedLine ? [field('cited line', `${c.labels.citedLine.file}:${c.labels.citedLine.line} (${c.labels.citedLine.side})`)] : []),
    ...('causedBy' in c && c.causedBy ? [field('caused by', c.causedBy)] : []),
    field('difficulty', c.difficulty),
    field('categories', c.categories.join(', ')),
    field('provenance', provenance),
    '',
    'facts:',
    ...c.labels.facts.map((fact) => `  - ${fact}`),
    '',
  ];
  if ('webhook' in c.input) {
    const { webhook, monitor, errorLogs, recentIncidents } = c.input;
    return [
      ...head,
      field('alert', webhook.title),
      field('monitor', `${monitor.id} ${monitor.name} (${monitor.type}): ${monitor.query}`),
      field('error logs', String(errorLogs.length)),
      field('incidents', recentIncidents.length === 0 ? 'none' : recentIncidents.map((i) => `${i.incidentId} [${i.status}] ${i.title}`).join('; ')),
      '',
      '--- alert message ---',
      webhook.message.trimEnd(),
    ].join('\n');
  }
  const { service, deploys, flagged } = c.input;
  return [
    ...head,
    field('service', service),
    field('deploys', deploys.map((d) => d.revision.slice(0, 12)).join(' <- ')),
    ...flagged.map((f) => field('flagged', `${f.signature} ${f.baselineCount} -> ${f.afterCount}: ${f.template}`)),
    '',
    ...deploys.flatMap((d) => [`--- diff of ${d.revision.slice(0, 12)} ---`, d.diffText.trimEnd()]),
  ].join('\n');
}
