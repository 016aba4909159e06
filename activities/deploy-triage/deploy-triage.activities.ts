import type { ZodType } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { classifyPatches, type ClassifiedFile, type FileClass } from '../../domain/deploy-triage/changed-files';
import {
  changedLineAt,
  enclosingFunctionNames,
  groundCausalLink,
  symbolsToLookUp,
  type CausalLink,
  type FlaggedErrorEvidence,
  type GroundingFailure,
} from '../../domain/deploy-triage/grounding';
import { parseUnifiedDiff, UnifiedDiffError, type FilePatch } from '../../domain/unified-diff';
import { describeIssues } from '../../lib/describe-issues';
import type { CodeSearchPort } from '../../ports/code-search.port';
import type { ModelPort } from '../../ports/model.port';
import { generateStructured } from '../shared/structured-output';
import {
  DEPLOY_FILES_SYSTEM_PROMPT,
  DEPLOY_LINK_SYSTEM_PROMPT,
  deployFilesPrompt,
  deployLinkPrompt,
  groundingReAskPrompt,
  type FlaggedForPrompt,
} from './deploy-triage.prompt';
import { DeployLinkAnswer, DeployTriageInput, FileClassesAnswer } from './deploy-triage.schema';

export type { DeployTriageInput } from './deploy-triage.schema';

export interface DeployTriageLimits {
  /** At most this many deploys are looked at, the one under watch included; the watch sends as many as STEWARD_REGRESSION_LOOKBACK says. */
  lookbackDeploys: number;
  /** Re-asks after a link fails its grounding, per deploy. */
  maxGroundingReAsks: number;
  /** Diff text shown to the model per deploy. */
  maxDiffChars: number;
  /** Diff text read per deploy for the grounding (which must see every changed line the model may cite). */
  maxDiffReadChars: number;
}

export const DEFAULT_DEPLOY_TRIAGE_LIMITS: DeployTriageLimits = { lookbackDeploys: 50, maxGroundingReAsks: 2, maxDiffChars: 60_000, maxDiffReadChars: 5_000_000 };

/** A changed file with who placed it: the rules, or the model for what they could not. */
export interface TriagedFile {
  path: string;
  fileClass: FileClass;
  decidedBy: 'rules' | 'model';
  reason: string;
}

export interface CitedLine {
  revision: string;
  file: string;
  line: number;
  side: 'new' | 'old';
  text: string;
}

export interface DeployTriageVerdict {
  verdict: 'caused' | 'not_caused' | 'uncertain';
  confidence: number;
  reasoning: string;
  /** The flagged signatures the cited line explains; empty unless caused. */
  attributedSignatures: string[];
  /** The grounded line, when a deploy holds one. */
  citedLine: CitedLine | null;
  /** The revision of the deploy that holds the link: the one under watch, an earlier one of the lookback, or null. */
  heldBy: string | null;
  /** The files of every deploy examined, latest first. */
  classification: { revision: string; files: TriagedFile[] }[];
  /** Links the model proposed that failed their grounding, with what failed. */
  rejectedLinks: { revision: string; link: CausalLink; failures: GroundingFailure[] }[];
  /** Model calls made, by step: `triage.deploy-1.files`, `triage.deploy-1.link`, `triage.deploy-1.link.ground-1`, … */
  modelSteps: string[];
}

/** What one deploy's diff said. */
type DeployFinding =
  | { kind: 'no_runtime' }
  | { kind: 'grounded'; answer: DeployLinkAnswer; link: CausalLink; text: string }
  | { kind: 'no_link'; answer: DeployLinkAnswer }
  | { kind: 'rejected'; answer: DeployLinkAnswer };

export function createDeployTriageActivities(deps: { model: ModelPort; codeSearch: CodeSearchPort; limits?: Partial<DeployTriageLimits> }) {
  const limits: DeployTriageLimits = { ...DEFAULT_DEPLOY_TRIAGE_LIMITS, ...deps.limits };

  return {
    /**
     * Did this deploy cause the flagged errors? Files are placed by rules, the model asked only for
     * the rest; a deploy that changes no runtime file is cleared with no further model call. Otherwise
     * the model must name a changed line and the error it explains, which stands only once grounded
     * in the repository (refused links are sent back, a bounded number of times). When the latest
     * diff holds no link, the earlier deploys of the lookback are asked in turn.
     */
    async triageDeploy(rawInput: DeployTriageInput): Promise<DeployTriageVerdict> {
      const input = parseInput(rawInput);
      const flagged: FlaggedForPrompt[] = input.flagged.map((f) => ({ signature: f.signature, template: f.template, message: f.sample.message, stackTrace: f.sample.stackTrace, baselineCount: f.baselineCount, afterCount: f.afterCount }));
      const evidence: FlaggedErrorEvidence[] = flagged.map((f) => ({ signature: f.signature, template: f.template, message: f.message, stackTrace: f.stackTrace }));
      const verdict: DeployTriageVerdict = { verdict: 'uncertain', confidence: 0, reasoning: '', attributedSignatures: [], citedLine: null, heldBy: null, classification: [], rejectedLinks: [], modelSteps: [] };
      const ask = async <T>(step: string, system: string, prompt: string, schemaName: string, schema: ZodType<T>): Promise<{ value: T; text: string }> => {
        verdict.modelSteps.push(step);
        const { value } = await generateStructured({ model: deps.model, incidentId: input.watchId, step, system, prompt, schemaName, schema });
        return { value, text: JSON.stringify(value) };
      };

      const findings: { revision: string; finding: DeployFinding }[] = [];
      for (const [index, deploy] of input.diffs.slice(0, limits.lookbackDeploys).entries()) {
        const position = index + 1;
        const diffText = deploy.diffText ?? (await deps.codeSearch.diff(input.service, deploy.previousRevision, deploy.revision, limits.maxDiffReadChars)).text;
        const patches = parseDiff(diffText, `diffs[${index}]`, deploy.revision);
        const files = await placeFiles({ position, revision: deploy.revision, service: input.service, patches, servicesFilePath: input.servicesFilePath ?? null, ask });
        verdict.classification.push({ revision: deploy.revision, files });
        const runtimeFiles = files.filter((f) => f.fileClass === 'runtime').map((f) => f.path);

        // No runtime file: this deploy is cleared with no link asked for. The errors still rose,
        // so the lookback goes on: an earlier deploy may hold their cause.
        if (runtimeFiles.length === 0) {
          findings.push({ revision: deploy.revision, finding: { kind: 'no_runtime' } });
          continue;
        }

        const classified: ClassifiedFile[] = files.map((f) => ({ path: f.path, fileClass: f.fileClass, rule: f.reason }));
        const prompt = deployLinkPrompt({ service: input.service, revision: deploy.revision, previousRevision: deploy.previousRevision, position, classified, patches, flagged, maxDiffChars: limits.maxDiffChars });
        let asked = await ask(`triage.deploy-${position}.link`, DEPLOY_LINK_SYSTEM_PROMPT, prompt, 'DeployLinkAnswer', DeployLinkAnswer);
        let finding: DeployFinding | null = null;
        for (let reAsk = 0; finding === null; reAsk++) {
          const answer = asked.value;
          if (!answer.link) {
            finding = { kind: 'no_link', answer };
            break;
          }
          const link: CausalLink = { ...answer.link };
          const grounding = await ground({ codeSearch: deps.codeSearch, service: input.service, revision: deploy.revision, previousRevision: deploy.previousRevision, link, patches, evidence, runtimeFiles });
          if (grounding.ok) {
            finding = { kind: 'grounded', answer, link, text: grounding.text };
            break;
          }
          verdict.rejectedLinks.push({ revision: deploy.revision, link, failures: grounding.failures });
          if (reAsk >= limits.maxGroundingReAsks) {
            finding = { kind: 'rejected', answer };
            break;
          }
          asked = await ask(`triage.deploy-${position}.link.ground-${reAsk + 1}`, DEPLOY_LINK_SYSTEM_PROMPT, groundingReAskPrompt(prompt, asked.text, grounding.failures), 'DeployLinkAnswer', DeployLinkAnswer);
        }
        findings.push({ revision: deploy.revision, finding });
        // The model's word that this diff caused it, on a line that holds up: no need to look further back.
        if (finding.kind === 'grounded' && finding.answer.verdict === 'caused') break;
      }
      if (findings.every((f) => f.finding.kind === 'no_runtime')) return clearedWithoutRuntime(verdict, input.revision, verdict.classification);
      return conclude(verdict, input.revision, findings, new Set(flagged.map((f) => f.signature)));
    },
  };
}

type Ask = <T>(step: string, system: string, prompt: string, schemaName: string, schema: ZodType<T>) => Promise<{ value: T; text: string }>;

function parseInput(raw: DeployTriageInput) {
  const parsed = DeployTriageInput.safeParse(raw);
  if (!parsed.success) throw stewardFailure(ERROR_TYPES.deployTriageInputInvalid, `The deploy triage's input is invalid: ${describeIssues(parsed.error)}`);
  const input = parsed.data;
  if (input.diffs[0]!.revision !== input.revision) {
    throw stewardFailure(ERROR_TYPES.deployTriageInputInvalid, `The deploy triage's input is invalid: diffs.0.revision is ${input.diffs[0]!.revision}, not the deploy under watch (${input.revision}); diffs go latest first`);
  }
  return input;
}

function parseDiff(text: string, field: string, revision: string): FilePatch[] {
  // A redeploy of the same code changes nothing: no patch, so no runtime file.
  if (text.trim() === '') return [];
  try {
    return parseUnifiedDiff(text);
  } catch (error) {
    if (error instanceof UnifiedDiffError) throw stewardFailure(ERROR_TYPES.deployDiffUnreadable, `${field} (revision ${revision}) is not a readable unified diff: ${error.message}`);
    throw error;
  }
}

/** Rules first; one model call for the paths they leave, any path the model skips counted as runtime so that omission clears nothing. */
async function placeFiles(input: { position: number; revision: string; service: string; patches: FilePatch[]; servicesFilePath: string | null; ask: Ask }): Promise<TriagedFile[]> {
  const classified = classifyPatches(input.patches, { servicesFilePath: input.servicesFilePath });
  const unplaced = classified.filter((f) => f.fileClass === null);
  const byModel = new Map<string, { fileClass: FileClass; reason: string }>();
  if (unplaced.length > 0) {
    const { value } = await input.ask(
      `triage.deploy-${input.position}.files`,
      DEPLOY_FILES_SYSTEM_PROMPT,
      deployFilesPrompt({ service: input.service, revision: input.revision, unplaced, patches: input.patches }),
      'FileClassesAnswer',
      FileClassesAnswer,
    );
    for (const file of value.files) byModel.set(file.path, { fileClass: file.fileClass, reason: file.reason });
  }
  return classified.map((file): TriagedFile => {
    if (file.fileClass !== null) return { path: file.path, fileClass: file.fileClass, decidedBy: 'rules', reason: file.rule };
    const placed = byModel.get(file.path);
    if (placed) return { path: file.path, fileClass: placed.fileClass, decidedBy: 'model', reason: placed.reason };
    return { path: file.path, fileClass: 'runtime', decidedBy: 'rules', reason: `${file.rule}, and the model did not place it: counted as runtime` };
  });
}

async function ground(input: {
  codeSearch: CodeSearchPort;
  service: string;
  revision: string;
  previousRevision: string | null;
  link: CausalLink;
  patches: FilePatch[];
  evidence: FlaggedErrorEvidence[];
  runtimeFiles: string[];
}): Promise<{ ok: true; text: string } | { ok: false; failures: GroundingFailure[] }> {
  const { link } = input;
  const changed = changedLineAt(input.patches, link.file, link.line, link.side);
  let enclosingFunctions: string[] = [];
  if (changed) {
    const content = await input.codeSearch.readFile(input.service, input.revision, link.file);
    if (content !== null) enclosingFunctions = enclosingFunctionNames(content, changed.newPosition);
  }
  const symbols = symbolsToLookUp(link);
  let symbolsPresent = symbols.length > 0 ? await input.codeSearch.findSymbols(input.service, input.revision, symbols) : {};
  // A removed line's names may be gone from the revision: they must then exist in the one it replaced.
  const missing = symbols.filter((s) => symbolsPresent[s] !== true);
  if (link.side === 'old' && input.previousRevision && missing.length > 0) {
    const before = await input.codeSearch.findSymbols(input.service, input.previousRevision, missing);
    symbolsPresent = { ...symbolsPresent, ...Object.fromEntries(missing.map((s) => [s, before[s] === true])) };
  }
  const result = groundCausalLink({ link, patches: input.patches, flagged: input.evidence, enclosingFunctions, symbolsPresent, runtimeFiles: input.runtimeFiles });
  return result.ok ? { ok: true, text: changed!.text } : result;
}

function clearedWithoutRuntime(verdict: DeployTriageVerdict, revision: string, classification: DeployTriageVerdict['classification']): DeployTriageVerdict {
  const files = classification[0]!.files;
  const counts = new Map<FileClass, number>();
  for (const file of files) counts.set(file.fileClass, (counts.get(file.fileClass) ?? 0) + 1);
  const summary = files.length === 0 ? 'changes no file' : `changes ${files.length} file(s), none of them runtime (${[...counts].map(([c, n]) => `${n} ${c}`).join(', ')})`;
  const earlier = classification.length > 1 ? ` Nor does any earlier deploy of the lookback (${classification.slice(1).map((c) => c.revision).join(', ')}) change a runtime file.` : '';
  return {
    ...verdict,
    verdict: 'not_caused',
    confidence: 0.9,
    reasoning: `The deploy of ${revision} ${summary}: code that does not run in production is very unlikely to have caused the errors, so no causal link was sought.${earlier}`,
  };
}

function conclude(verdict: DeployTriageVerdict, revision: string, findings: { revision: string; finding: DeployFinding }[], flaggedSignatures: Set<string>): DeployTriageVerdict {
  const caused = findings.find((f) => f.finding.kind === 'grounded' && f.finding.answer.verdict === 'caused');
  if (caused && caused.finding.kind === 'grounded') {
    const { answer, link, text } = caused.finding;
    const underWatch = findings[0]!.finding.kind === 'no_runtime' ? 'changes no runtime file' : 'holds no link';
    const earlier = caused.revision !== revision ? ` The diff of the deploy under watch (${revision}) ${underWatch}; an earlier deploy of the lookback, ${caused.revision}, does.` : '';
    return {
      ...verdict,
      verdict: 'caused',
      confidence: answer.confidence,
      reasoning: `${answer.reasoning}${earlier}`,
      attributedSignatures: [...new Set([link.signature, ...answer.attributedSignatures.filter((s) => flaggedSignatures.has(s))])],
      citedLine: { revision: caused.revision, file: link.file, line: link.line, side: link.side, text },
      heldBy: caused.revision,
    };
  }
  const examined = findings.map((f) => f.revision).join(', ');
  // A grounded line the model itself would not call the cause: worth showing, not enough to say caused.
  const candidate = findings.find((f) => f.finding.kind === 'grounded');
  if (candidate && candidate.finding.kind === 'grounded') {
    const { answer, link, text } = candidate.finding;
    return {
      ...verdict,
      verdict: 'uncertain',
      confidence: Math.min(answer.confidence, 0.5),
      reasoning: `${answer.reasoning} The candidate line holds up against the repository, but the model did not call it the cause.`,
      citedLine: { revision: candidate.revision, file: link.file, line: link.line, side: link.side, text },
      heldBy: null,
    };
  }
  const answers = findings.flatMap((f) => (f.finding.kind === 'no_runtime' ? [] : [{ revision: f.revision, answer: f.finding.answer, kind: f.finding.kind }]));
  if (findings.some((f) => f.finding.kind === 'rejected')) {
    return {
      ...verdict,
      verdict: 'uncertain',
      confidence: Math.min(0.3, ...answers.map((a) => a.answer.confidence)),
      reasoning: `No deploy of the lookback (${examined}) holds a causal link that survives grounding: ${verdict.rejectedLinks.length} proposed link(s) were refused (${verdict.rejectedLinks.map((r) => `${r.link.file}:${r.link.line}: ${r.failures.map((f) => f.check).join(', ')}`).join('; ')}).`,
    };
  }
  if (answers.length > 0 && answers.every((a) => a.answer.verdict === 'not_caused')) {
    return {
      ...verdict,
      verdict: 'not_caused',
      confidence: Math.min(...answers.map((a) => a.answer.confidence)),
      reasoning: `No deploy of the lookback (${examined}) explains the flagged errors. ${answers[0]!.answer.reasoning}`,
    };
  }
  return {
    ...verdict,
    verdict: 'uncertain',
    confidence: Math.min(...answers.map((a) => a.answer.confidence), 0.5),
    reasoning: `No deploy of the lookback (${examined}) holds a causal link. ${answers[0]?.answer.reasoning ?? ''}`.trim(),
  };
}
