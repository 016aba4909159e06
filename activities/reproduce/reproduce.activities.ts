import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ERROR_TYPES, type ProvidedReproduction } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ServicesConfig } from '../../domain/service-config';
import type { NormalizedAlert } from '../../domain/alert';
import type { ExecEvidence, Reproduction } from '../../domain/incident';
import { matchBuildFailure } from '../../domain/build-failure';
import { matchReproduction, type ReproductionMatch } from '../../domain/reproduction-match';
import { readSuiteOutcome, type SuiteOutcome } from '../../domain/test-results';
import type { TriageResult } from '../../domain/triage';
import type { CodeHostPort } from '../../ports/code-host.port';
import type { ModelPort } from '../../ports/model.port';
import type { ExecResult, SandboxPort } from '../../sandbox/sandbox.port';
import { heartbeatWhile, repositoryRefFor, runInActivity, sandboxIdFor, serviceConfigFor, toEvidence } from '../shared/sandbox-session';
import type { LogsPort } from '../../ports/logs.port';
import { errorLogContext } from '../shared/error-logs';
import { generateStructured } from '../shared/structured-output';
import { REPRODUCE_SYSTEM_PROMPT, reproducePrompt, type PreviousTry } from './reproduce.prompt';

const ReproductionTest = z.object({
  testPath: z.string().min(1),
  content: z.string().min(1),
  explanation: z.string(),
});

export interface SuiteRun {
  outcome: SuiteOutcome;
  evidence: ExecEvidence;
}

export interface ReproductionOutcome {
  service: string;
  revision: string;
  sandboxId: string;
  /** The repository's own suite at the deployed revision: what a fix is compared against. */
  baseline: SuiteRun;
  reproduction: Reproduction | null;
  refusedTries: { testPath: string; verdict: string; evidence: ExecEvidence }[];
}

/** Saved in heartbeats: a retry after a worker crash resumes here instead of redoing the work. */
interface ReproduceProgress {
  phase: 'opening' | 'baseline' | 'reproducing';
  revision?: string;
  baseline?: SuiteRun;
  refusedTries?: ReproductionOutcome['refusedTries'];
}

export interface ReproduceLimits {
  maxTries: number;
  commandTimeoutMs: number;
  /** Runs after the first matching failure that must fail the same way, to refuse a flaky reproduction. */
  confirmationRuns: number;
}

/** A test nightly QA wrote, as the workflow passes it on: checked here, since the activity is where it is run. */
const ProvidedReproductionInput = z.object({
  missionId: z.string().min(1).max(200),
  testPath: z.string().min(1).max(500),
  testSource: z.string().min(1).max(1_000_000),
  command: z.string().min(1).max(2_000),
  expectedFailure: z.string().min(1).max(20_000),
});

/** A path that leaves the repository, or null. */
function leavesRepository(testPath: string): string | null {
  const normalized = path.posix.normalize(testPath.replace(/\\/g, '/'));
  return path.posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../') ? `the path ${testPath} leaves the repository` : null;
}

/** Paths the model proposes must stay inside the reproduction folder and be new files. */
function checkTestPath(testPath: string, reproductionDir: string): string | null {
  const normalized = path.posix.normalize(testPath.replace(/\\/g, '/'));
  if (leavesRepository(testPath)) return leavesRepository(testPath);
  const dir = path.posix.normalize(reproductionDir).replace(/\/$/, '');
  if (!normalized.startsWith(`${dir}/`)) return `the test must be written under ${dir}/, not at ${testPath}`;
  return null;
}

async function readSources(sandbox: SandboxPort, sandboxId: string, files: string[]): Promise<{ path: string; content: string }[]> {
  const sources: { path: string; content: string }[] = [];
  for (const file of files.slice(0, 8)) {
    // The suspected files come from the model: a wrong guess is expected and only shrinks the context.
    const content = await sandbox.readFile(sandboxId, file).catch((error: Error) => `(could not be read: ${error.message})`);
    sources.push({ path: file, content: content.slice(0, 20_000) });
  }
  return sources;
}

/**
 * Runs a command that must fail for the expected reason, then again (`confirmationRuns`) to refuse
 * a failure that comes and goes. Either the runs and the match, or why it does not reproduce.
 * Nightly QA's finding gate (activities/qa-mission/) runs its agent's tests through it too, so that a
 * finding is held to the rule the incident's gate will hold it to.
 */
export async function reproduceByCommand(input: {
  command: string;
  run: () => Promise<ExecResult>;
  matches: (output: string) => ReproductionMatch;
  confirmationRuns: number;
  passedVerdict: string;
}): Promise<{ runsBefore: ExecEvidence[]; match: ReproductionMatch } | { verdict: string; evidence: ExecEvidence }> {
  const first = await input.run();
  const evidence = toEvidence(first);
  const match = input.matches(first.outputTail);
  if (first.exitCode === 0 || first.timedOut || !match.matched) {
    return { verdict: first.timedOut ? `\`${input.command}\` timed out` : first.exitCode === 0 ? input.passedVerdict : match.explanation, evidence };
  }
  const runsBefore = [evidence];
  for (let index = 2; index <= input.confirmationRuns + 1; index += 1) {
    const again = await input.run();
    runsBefore.push(toEvidence(again));
    if (again.exitCode === 0 || again.timedOut || !input.matches(again.outputTail).matched) {
      return { verdict: `the failure is flaky: run ${index} ${again.timedOut ? 'timed out' : again.exitCode === 0 ? 'passed' : 'failed for another reason'}`, evidence: runsBefore.at(-1)! };
    }
  }
  return { runsBefore, match };
}

export function createReproduceActivities(deps: {
  model: ModelPort;
  sandbox: SandboxPort;
  codeHost: CodeHostPort;
  services: ServicesConfig;
  logs?: LogsPort | null;
  limits?: Partial<ReproduceLimits>;
}) {
  const limits: ReproduceLimits = { maxTries: 2, commandTimeoutMs: 5 * 60_000, confirmationRuns: 1, ...deps.limits };

  /**
   * The hard gate for a test someone else wrote: written into the clean workspace as given (a new
   * file inside the repository), run with its own command, and it must fail for the reason it states,
   * matched as an alert's failure is, twice at least. Any other result is a refused try, and the
   * incident ends not reproduced: nightly QA's word alone opens no PR.
   */
  async function runProvidedTest(
    sandboxId: string,
    provided: z.infer<typeof ProvidedReproductionInput>,
    revision: string,
    progress: ReproduceProgress,
  ): Promise<Pick<ReproductionOutcome, 'reproduction' | 'refusedTries'>> {
    const noRun = { command: '', exitCode: null, timedOut: false, durationMs: 0, outputTail: '' };
    await deps.sandbox.reset(sandboxId);
    const outside = leavesRepository(provided.testPath);
    if (outside) return { reproduction: null, refusedTries: [{ testPath: provided.testPath, verdict: outside, evidence: noRun }] };
    const existing = await deps.sandbox.readFile(sandboxId, provided.testPath).then(
      () => true,
      () => false,
    );
    if (existing) {
      // Writing over it would change a test of the repository's own, and a fix would be judged by the changed one.
      const verdict = `${provided.testPath} already exists at ${revision.slice(0, 12)}; nightly QA's test must be a new file`;
      return { reproduction: null, refusedTries: [{ testPath: provided.testPath, verdict, evidence: noRun }] };
    }
    await deps.sandbox.writeFiles(sandboxId, [{ path: provided.testPath, content: provided.testSource }]);
    const reproduced = await reproduceByCommand({
      command: provided.command,
      matches: (output) => matchReproduction(provided.expectedFailure, output),
      run: () => runInActivity(deps.sandbox, sandboxId, provided.command, limits.commandTimeoutMs, progress),
      // "Fails twice": one confirmation at least, whatever the limits say for the model's tests.
      confirmationRuns: Math.max(1, limits.confirmationRuns),
      passedVerdict: `nightly QA's test passes at ${revision.slice(0, 12)}, so the finding does not reproduce here`,
    });
    await deps.sandbox.reset(sandboxId);
    if ('verdict' in reproduced) return { reproduction: null, refusedTries: [{ testPath: provided.testPath, verdict: reproduced.verdict, evidence: reproduced.evidence }] };
    return {
      reproduction: {
        testPath: provided.testPath,
        testContent: provided.testSource,
        explanation: `Nightly QA's test (mission ${provided.missionId}) fails at ${revision.slice(0, 12)} for the reason it found, in ${reproduced.runsBefore.length} runs out of ${reproduced.runsBefore.length}.`,
        command: provided.command,
        before: reproduced.runsBefore[0]!,
        match: reproduced.match.explanation,
        runsBefore: reproduced.runsBefore,
      },
      refusedTries: [],
    };
  }

  return {
    /**
     * Checks out the deployed revision in a sandbox, runs the suite for a baseline, and has the
     * model write a test that must fail for the alert's reason; for a failed build, runs the
     * service's build command, which must fail with the build log's error. No matching failure, no fix.
     */
    async reproduceIncident(input: {
      incidentId: string;
      alert: NormalizedAlert;
      triage: TriageResult;
      /** A nightly QA finding's failing test: run as given instead of asking the model to write one. */
      provided?: ProvidedReproduction & { missionId: string };
    }): Promise<ReproductionOutcome> {
      const context = Context.current();
      const resumed = (context.info.heartbeatDetails ?? {}) as ReproduceProgress;
      const service = serviceConfigFor(deps.services, input.alert.service);
      const repository = repositoryRefFor(service);
      const sandboxId = sandboxIdFor(input.incidentId);

      const revision = resumed.revision ?? (await deps.codeHost.resolveRevision(repository, input.alert.deployedRevision ?? service.defaultBranch));
      context.heartbeat({ phase: 'opening', revision } satisfies ReproduceProgress);
      await heartbeatWhile({ phase: 'opening', revision } satisfies ReproduceProgress, () =>
        deps.sandbox.open({ sandboxId, repositoryLocation: service.repository, revision, setupCommand: service.setupCommand }),
      );

      let baseline = resumed.baseline;
      if (!baseline) {
        await deps.sandbox.reset(sandboxId);
        const run = await runInActivity(deps.sandbox, sandboxId, service.testCommand, limits.commandTimeoutMs, { phase: 'baseline', revision });
        baseline = { outcome: readSuiteOutcome(run.exitCode, run.timedOut, run.outputTail), evidence: toEvidence(run) };
      }
      const refusedTries = [...(resumed.refusedTries ?? [])];
      const progress = (): ReproduceProgress => ({ phase: 'reproducing', revision, baseline, refusedTries });
      context.heartbeat(progress());

      const build = input.alert.buildFailure;
      if (build) {
        // A failed build needs no test written: the build command is the reproduction, and the log its expected error.
        const outcome = { service: service.name, revision, sandboxId, baseline };
        if (!service.buildCommand) {
          const verdict = `service ${service.name} has no buildCommand in the services file, so its build cannot be run`;
          return { ...outcome, reproduction: null, refusedTries: [{ testPath: '(build)', verdict, evidence: { command: '', exitCode: null, timedOut: false, durationMs: 0, outputTail: '' } }] };
        }
        await deps.sandbox.reset(sandboxId);
        const reproduced = await reproduceByCommand({
          command: service.buildCommand,
          matches: (output) => matchBuildFailure(build.errorExcerpt, output),
          run: () => runInActivity(deps.sandbox, sandboxId, service.buildCommand!, limits.commandTimeoutMs, progress()),
          confirmationRuns: limits.confirmationRuns,
          passedVerdict: `the build passes at ${revision.slice(0, 12)}, so the failure does not reproduce here`,
        });
        await deps.sandbox.reset(sandboxId);
        if ('verdict' in reproduced) return { ...outcome, reproduction: null, refusedTries: [{ testPath: service.buildCommand, verdict: reproduced.verdict, evidence: reproduced.evidence }] };
        return {
          ...outcome,
          reproduction: {
            testPath: null,
            testContent: null,
            explanation: `\`${service.buildCommand}\` fails at ${revision.slice(0, 12)} as the deploy's build did.`,
            command: service.buildCommand,
            before: reproduced.runsBefore[0]!,
            match: reproduced.match.explanation,
            runsBefore: reproduced.runsBefore,
          },
          refusedTries: [],
        };
      }

      if (input.provided !== undefined) {
        const parsed = ProvidedReproductionInput.safeParse(input.provided);
        if (!parsed.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `the provided reproduction is not one the gate can run: ${z.prettifyError(parsed.error)}`, { incidentId: input.incidentId });
        return { service: service.name, revision, sandboxId, baseline, ...(await runProvidedTest(sandboxId, parsed.data, revision, progress())) };
      }

      const sourceFiles = await readSources(deps.sandbox, sandboxId, input.triage.suspectedArea.files);
      const errorLogs = await errorLogContext(deps.logs ?? null, input.alert);
      const alertText = `${input.alert.title}\n${input.alert.message}`;
      for (let attempt = refusedTries.length + 1; attempt <= limits.maxTries; attempt += 1) {
        const previousTries: PreviousTry[] = refusedTries.map((t) => ({ testPath: t.testPath, verdict: t.verdict, outputTail: t.evidence.outputTail }));
        const { value: proposal } = await generateStructured({
          model: deps.model,
          incidentId: input.incidentId,
          step: `reproduce.try-${attempt}`,
          system: REPRODUCE_SYSTEM_PROMPT,
          prompt: reproducePrompt({
            alert: input.alert,
            triage: input.triage,
            reproductionDir: service.reproductionDir,
            singleTestCommand: service.singleTestCommand,
            sourceFiles,
            previousTries,
            errorLogs,
          }),
          schemaName: 'ReproductionTest',
          schema: ReproductionTest,
        });
        await deps.sandbox.reset(sandboxId);
        const pathProblem = checkTestPath(proposal.testPath, service.reproductionDir);
        const existing = pathProblem ? null : await deps.sandbox.readFile(sandboxId, proposal.testPath).then(() => true, () => false);
        if (pathProblem || existing) {
          const verdict = pathProblem ?? `${proposal.testPath} already exists; a reproduction must be a new file`;
          refusedTries.push({ testPath: proposal.testPath, verdict, evidence: { command: '', exitCode: null, timedOut: false, durationMs: 0, outputTail: '' } });
          continue;
        }
        await deps.sandbox.writeFiles(sandboxId, [{ path: proposal.testPath, content: proposal.content }]);
        const command = service.singleTestCommand.replace('{file}', proposal.testPath);
        const run = await runInActivity(deps.sandbox, sandboxId, command, limits.commandTimeoutMs, progress());
        const evidence = toEvidence(run);
        const match = matchReproduction(alertText, run.outputTail);
        if (run.exitCode !== 0 && !run.timedOut && match.matched) {
          // Once more: a test that fails only sometimes is no gate, and a fix could not be judged by it.
          const runsBefore = [evidence];
          let flaky: string | null = null;
          for (let index = 2; index <= limits.confirmationRuns + 1 && !flaky; index += 1) {
            const again = await runInActivity(deps.sandbox, sandboxId, command, limits.commandTimeoutMs, progress());
            runsBefore.push(toEvidence(again));
            if (again.exitCode === 0 || again.timedOut || !matchReproduction(alertText, again.outputTail).matched) {
              flaky = `the failure is flaky: run ${index} ${again.timedOut ? 'timed out' : again.exitCode === 0 ? 'passed' : 'failed for another reason'}`;
            }
          }
          if (flaky) {
            refusedTries.push({ testPath: proposal.testPath, verdict: flaky, evidence: runsBefore.at(-1)! });
            context.heartbeat(progress());
            continue;
          }
          await deps.sandbox.reset(sandboxId);
          return {
            service: service.name,
            revision,
            sandboxId,
            baseline,
            reproduction: { testPath: proposal.testPath, testContent: proposal.content, explanation: proposal.explanation, command, before: evidence, match: match.explanation, runsBefore },
            refusedTries,
          };
        }
        const verdict = run.timedOut ? 'the test timed out' : run.exitCode === 0 ? 'the test passes at the deployed revision, so it reproduces nothing' : match.explanation;
        refusedTries.push({ testPath: proposal.testPath, verdict, evidence });
        context.heartbeat(progress());
      }
      await deps.sandbox.reset(sandboxId);
      return { service: service.name, revision, sandboxId, baseline, reproduction: null, refusedTries };
    },

    /** The incident is over: its sandbox goes. */
    async releaseSandbox(input: { incidentId: string }): Promise<void> {
      await deps.sandbox.destroy(sandboxIdFor(input.incidentId));
    },
  };
}
