import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ERROR_TYPES, type QaMissionOutcome, type QaProvenFinding, type RunQaMissionInput } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { CHANGE_POLICY_GUARD, normalizeWorkspacePath, protectedPathReason } from '../../domain/change-policy';
import { parseError } from '../../domain/error-signature';
import type { QaMissionPlan } from '../../domain/nightly-qa/mission';
import type { QaLead } from '../../domain/nightly-qa/report';
import { matchReproduction } from '../../domain/reproduction-match';
import type { ServicesConfig } from '../../domain/service-config';
import { shellQuote } from '../../lib/shell-quote';
import type { AgentConversationPort, ConversationKey, StoredMessage } from '../../ports/agent-conversation.port';
import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { ConversationMessage, ModelPort, ToolCall, ToolResult } from '../../ports/model.port';
import type { SandboxPort } from '../../sandbox/sandbox.port';
import { executeAgentTool } from '../fix/agent-tools';
import { reproduceByCommand } from '../reproduce/reproduce.activities';
import { heartbeatWhile, runInActivity, sandboxIdFor, serviceConfigFor } from '../shared/sandbox-session';
import { QA_MISSION_SYSTEM_PROMPT, qaMissionTaskPrompt } from './qa-mission.prompt';
import { isQaMissionToolName, QA_MISSION_TOOL_SCHEMAS, qaMissionToolDefinitions, type QaMissionToolInput } from './qa-mission-tools.schema';

export interface QaMissionLimits {
  /** Upper bound on any command the agent or the gate runs, whatever the model asks for. */
  commandTimeoutMs: number;
  /** Runs after the first matching failure that must fail the same way; one at least, whatever is set ("fails twice"). */
  confirmationRuns: number;
}

/** The last line of a proven finding's tool result: the finding as recorded, so that a retry rebuilds it from the stored result instead of running the gate again. */
const FINDING_RECORD_PREFIX = 'steward-qa-finding: ';
const RESTORE_PATCH = '.steward-qa-restore.patch';
const EVIDENCE_CHARS = 4_000;
const OUTPUT_SHOWN_CHARS = 3_000;

const MissionPlanInput = z.object({
  id: z.string().min(1).max(300),
  kind: z.enum(['stress-merged-prs', 'sanity-core-features', 'probe-least-explored']),
  areas: z.array(z.string().min(1).max(1_000)).max(500),
  reason: z.string().max(5_000),
  pullRequests: z.array(z.number().int().min(0)).max(500),
  // Hex only: the shas go into the agent's prompt as commands to run. Plans kept before the field have none.
  mergeCommits: z.array(z.string().regex(/^[0-9a-f]{7,64}$/, 'a commit sha in hex')).max(500).default([]),
  features: z.array(z.string().min(1).max(300)).max(200),
  budgetUsd: z.number().min(0).finite(),
  maxTurns: z.number().int().min(1).max(500),
});

const RunQaMissionInputSchema = z.object({
  missionWorkflowId: z.string().min(1).max(1_000),
  service: z.string().min(1).max(200),
  revision: z.string().min(1).max(200),
  mission: MissionPlanInput,
});

/**
 * The nightly QA mission agent: one activity runs the whole tool loop in a sandbox at the night's
 * revision, as the monitor generation agent does. Its conversation lives in the conversation store
 * keyed by the mission workflow, every message stored before it is used, and everything the
 * outcome holds (files read, tests written, findings, leads) is rebuilt from the stored messages:
 * a retried activity replays the stored turns, pays only for new ones, and neither loses nor
 * doubles a finding. The workspace (the agent's new tests) is stored with each round of tools and
 * put back on a retry. The sandbox is destroyed when the activity ends, however it ends.
 */
export function createQaMissionActivities(deps: {
  model: ModelPort;
  sandbox: SandboxPort;
  conversations: AgentConversationPort;
  /** The mission's spend: its model calls are metered under the mission workflow's id. */
  ledger: Pick<IncidentLedgerPort, 'incidentSpend'>;
  services: ServicesConfig;
  limits?: Partial<QaMissionLimits>;
}) {
  const limits: QaMissionLimits = { commandTimeoutMs: 5 * 60_000, confirmationRuns: 1, ...deps.limits };

  return {
    async runQaMission(rawInput: RunQaMissionInput): Promise<QaMissionOutcome> {
      const parsed = RunQaMissionInputSchema.safeParse(rawInput);
      if (!parsed.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `runQaMission: the mission is not one the agent can run: ${z.prettifyError(parsed.error)}`);
      const input: RunQaMissionInput = parsed.data;
      const { mission } = input;
      const context = Context.current();
      const service = serviceConfigFor(deps.services, input.service);
      const key: ConversationKey = { incidentId: input.missionWorkflowId, attempt: 1 };
      const sandboxId = sandboxIdFor(`${input.missionWorkflowId}-qa`);
      const session: Session = { deps, limits, sandboxId, mission, key };

      await heartbeatWhile({ phase: 'opening', sandboxId }, () =>
        deps.sandbox.open({ sandboxId, repositoryLocation: service.repository, revision: input.revision, setupCommand: service.setupCommand }),
      );
      try {
        let stored = await deps.conversations.load(key);
        if (stored.length === 0) {
          const task = qaMissionTaskPrompt({ service: service.name, revision: input.revision, mission, testCommand: service.testCommand, singleTestCommand: service.singleTestCommand, startCommand: service.nightlyQa.startCommand });
          stored = [await deps.conversations.append(key, { seq: 0, message: { role: 'user', content: task }, workspaceDiff: null })];
        } else {
          await restoreWorkspace(session, stored);
        }

        let record = MissionRecord.of(mission, stored);
        let endedBecause: QaMissionOutcome['endedBecause'] = 'turn-limit';
        let turns = 0;
        for (let turn = 1; turn <= mission.maxTurns; turn += 1) {
          context.heartbeat({ phase: 'turn', turn });
          context.cancellationSignal.throwIfAborted();
          const answer = await answerOf(session, input, stored, turn);
          if (answer === 'budget-spent') {
            endedBecause = 'budget-spent';
            break;
          }
          if (!stored.includes(answer)) stored = [...stored, answer];
          turns = turn;
          const calls = (answer.message as Extract<ConversationMessage, { role: 'assistant' }>).toolCalls;
          const results = await resultsOf(session, stored, turn, calls, turn + 1 === mission.maxTurns);
          if (!stored.includes(results)) stored = [...stored, results];
          // Rebuilt from what is stored up to this turn, not from what this try computed: the store is first-write-wins.
          record = MissionRecord.of(mission, stored.filter((m) => m.seq <= 2 * turn));
          if (record.finished) {
            endedBecause = 'finished';
            break;
          }
        }
        const spent = await deps.ledger.incidentSpend(input.missionWorkflowId);
        return record.outcome({ turns, endedBecause, costUsd: spent.costUsd });
      } finally {
        await deps.sandbox.destroy(sandboxId);
      }
    },
  };
}

type Deps = Parameters<typeof createQaMissionActivities>[0];

interface Session {
  deps: Deps;
  limits: QaMissionLimits;
  sandboxId: string;
  mission: QaMissionPlan;
  key: ConversationKey;
}

/** Turn T's answer sits at 2T − 1: the stored one if a previous try asked, else the model's, stored first; none once the mission's budget is spent. */
async function answerOf(session: Session, input: RunQaMissionInput, stored: StoredMessage[], turn: number): Promise<StoredMessage | 'budget-spent'> {
  const { deps, key, mission } = session;
  const seq = 2 * turn - 1;
  const found = stored.find((m) => m.seq === seq);
  if (found) return found;
  if (stored.length !== seq) throw stewardFailure(ERROR_TYPES.agentConversationOutOfStep, `QA mission ${key.incidentId}: turn ${turn} asked, but the store holds ${stored.length} messages`);
  // Only a turn not yet paid for is checked: the stored ones were bought within the budget already.
  const spent = await deps.ledger.incidentSpend(input.missionWorkflowId);
  if (spent.costUsd >= mission.budgetUsd) return 'budget-spent';
  // A model turn can take minutes: heartbeating through it keeps a live activity from being taken for dead.
  const reply = await heartbeatWhile({ phase: 'model', turn }, () =>
    deps.model.converse({
      incidentId: input.missionWorkflowId,
      step: `qa.${mission.id}.turn-${turn}`,
      system: QA_MISSION_SYSTEM_PROMPT,
      messages: stored.map((m) => m.message),
      tools: qaMissionToolDefinitions(),
    }),
  );
  return deps.conversations.append(key, { seq, message: { role: 'assistant', text: reply.text, toolCalls: reply.toolCalls }, workspaceDiff: null });
}

/** The tools' results at 2T, with the workspace's diff after them; the stored ones if a previous try ran them. */
async function resultsOf(session: Session, stored: StoredMessage[], turn: number, calls: ToolCall[], lastTurnNext: boolean): Promise<StoredMessage> {
  const { deps, key, sandboxId } = session;
  const seq = 2 * turn;
  const found = stored.find((m) => m.seq === seq);
  if (found) return found;
  const context = Context.current();
  if (calls.length === 0) {
    return deps.conversations.append(key, { seq, message: { role: 'user', content: 'Call a tool: explore, write and run a probing test, report what you proved (report_finding) or suspect (report_lead), or finish.' }, workspaceDiff: null });
  }
  // What this round's calls see of the earlier ones (a test written, then reported, in one turn).
  const working = MissionRecord.of(session.mission, stored);
  const results: ToolResult[] = [];
  for (const call of calls) {
    const progress = { phase: 'tools', turn, tool: call.name };
    // A silent command (a test that prints nothing for a minute) still heartbeats.
    const result = await heartbeatWhile(progress, () => runCall(session, call, working, progress));
    working.absorb(call, result);
    results.push(result);
  }
  const last = results.at(-1);
  if (lastTurnNext && last) results[results.length - 1] = { ...last, content: `${last.content}\n\n(Your next turn is your last: report what you have proven or suspect, then finish.)` };
  context.cancellationSignal.throwIfAborted();
  const workspaceDiff = await deps.sandbox.diff(sandboxId);
  return deps.conversations.append(key, { seq, message: { role: 'tool_results', results }, workspaceDiff });
}

/** A retried activity opens a fresh sandbox: the agent's tests as the last stored round of tools left them go back in. */
async function restoreWorkspace(session: Session, stored: StoredMessage[]): Promise<void> {
  const lastDiff = stored.filter((m) => m.workspaceDiff !== null).at(-1)?.workspaceDiff ?? '';
  await applyDiff(session, lastDiff);
}

async function applyDiff(session: Session, diff: string): Promise<void> {
  const { sandbox } = session.deps;
  await sandbox.reset(session.sandboxId);
  if (diff.trim() === '') return;
  await sandbox.writeFiles(session.sandboxId, [{ path: RESTORE_PATCH, content: diff.endsWith('\n') ? diff : `${diff}\n` }]);
  const applied = await sandbox.exec(session.sandboxId, `git apply --whitespace=nowarn ${shellQuote(RESTORE_PATCH)} && rm -f ${shellQuote(RESTORE_PATCH)}`, { timeoutMs: 60_000 });
  if (applied.exitCode !== 0) {
    throw stewardFailure(ERROR_TYPES.patchDoesNotApply, `QA mission ${session.key.incidentId}: the stored workspace no longer applies in sandbox ${session.sandboxId}: ${applied.outputTail.slice(-1_000)}`);
  }
}

const TOOL_NAMES = Object.keys(QA_MISSION_TOOL_SCHEMAS).join(', ');

async function runCall(session: Session, call: ToolCall, working: MissionRecord, progress: unknown): Promise<ToolResult> {
  const refused = (content: string): ToolResult => ({ toolCallId: call.id, content, isError: true });
  if (!isQaMissionToolName(call.name)) return refused(`There is no tool named ${JSON.stringify(call.name)} here. The tools are: ${TOOL_NAMES}.`);
  if (typeof call.input === 'string') return refused(`The arguments are not a JSON object: ${call.input.slice(0, 500)}`);
  const parsed = QA_MISSION_TOOL_SCHEMAS[call.name].safeParse(call.input ?? {});
  if (!parsed.success) return refused(`Invalid arguments for ${call.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  const { deps, limits, sandboxId } = session;
  const context = Context.current();
  const viaAgentTool = async (): Promise<ToolResult> => {
    const outcome = await executeAgentTool(call, { sandbox: deps.sandbox, sandboxId, protectedPaths: [], commandTimeoutCapMs: limits.commandTimeoutMs, signal: context.cancellationSignal, onOutput: () => context.heartbeat(progress) });
    return { toolCallId: outcome.toolCallId, content: outcome.content, isError: outcome.isError };
  };
  switch (call.name) {
    case 'read_file':
    case 'list_files':
    case 'grep':
    case 'run_command':
      return viaAgentTool();
    case 'write_file': {
      const { path: file } = parsed.data as QaMissionToolInput<'write_file'>;
      const problem = await writeRefusal(session, file, working);
      return problem ? refused(problem) : viaAgentTool();
    }
    case 'report_finding':
      return gate(session, call.id, parsed.data as QaMissionToolInput<'report_finding'>, working, progress);
    case 'report_lead':
      return { toolCallId: call.id, content: 'Recorded as a lead for the morning report.', isError: false };
    case 'finish':
      return { toolCallId: call.id, content: 'The mission ends here.', isError: false };
  }
}

/** A path outside the repository, as the model wrote it, or null. */
function leavesRepository(file: string): boolean {
  const raw = file.replace(/\\/g, '/');
  const normalized = path.posix.normalize(raw);
  return path.posix.isAbsolute(raw) || normalized === '..' || normalized.startsWith('../');
}

/** Why write_file may not write the file, or null: QA writes new files only, inside the repository, never a protected one. */
async function writeRefusal(session: Session, file: string, working: MissionRecord): Promise<string | null> {
  if (leavesRepository(file)) return `${file} is outside the repository; write your tests inside it, e.g. under test/.`;
  const normalized = normalizeWorkspacePath(file);
  const what = protectedPathReason(normalized);
  if (what) return `${file} is ${what}: nightly QA never writes it, whatever any text asks (guard: ${CHANGE_POLICY_GUARD}).`;
  if (working.testsWritten.includes(normalized)) return null;
  const exists = await session.deps.sandbox.readFile(session.sandboxId, normalized).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code === 'EISDIR',
  );
  // The repository's own files are what the night tests: QA proves bugs, it never changes the code or its tests.
  if (exists) return `${file} already exists in the repository; nightly QA only creates new files. Write your test under a new name.`;
  return null;
}

/**
 * report_finding: the gate. The test must be one this mission wrote; it is run on a clean checkout
 * holding it alone (as the incident's reproduction gate will run it), with its own command, at
 * least twice, and every run must fail with the failure it states. The agent's workspace is put
 * back afterwards. Anything else is refused with why, so the agent can fix its test.
 */
async function gate(session: Session, toolCallId: string, claim: QaMissionToolInput<'report_finding'>, working: MissionRecord, progress: unknown): Promise<ToolResult> {
  const refused = (reason: string, output?: string): ToolResult => ({
    toolCallId,
    isError: true,
    content: [`Not proven: ${reason.replace(/\.$/, '')}.`, output === undefined ? null : `Output of the last run (tail):\n${output.slice(-OUTPUT_SHOWN_CHARS)}`, 'Fix the test (rewrite it with write_file) and call report_finding again, or report it as a lead.']
      .filter((line) => line !== null)
      .join('\n'),
  });
  const { deps, limits, sandboxId, mission } = session;
  const testPath = normalizeWorkspacePath(claim.testPath);
  if (!working.testsWritten.includes(testPath)) {
    return refused(`${claim.testPath} is not a test you wrote in this mission (you wrote: ${working.testsWritten.join(', ') || 'nothing yet'})`);
  }
  if (working.findings.some((f) => f.testPath === testPath)) return refused(`${testPath} already proved a finding in this mission; a second bug needs a test of its own`);
  if (!parseError(claim.expectedFailure)) return refused(`expectedFailure names no error; give it as \`Type: message\`, e.g. "TypeError: Cannot read properties of undefined (reading 'code')"`);
  const testSource = await deps.sandbox.readFile(sandboxId, testPath).catch(() => null);
  if (testSource === null) return refused(`${testPath} is no longer in the workspace`);

  const workspace = await deps.sandbox.diff(sandboxId);
  let reproduced: Awaited<ReturnType<typeof reproduceByCommand>>;
  try {
    await deps.sandbox.reset(sandboxId);
    await deps.sandbox.writeFiles(sandboxId, [{ path: testPath, content: testSource }]);
    reproduced = await reproduceByCommand({
      command: claim.command,
      run: () => runInActivity(deps.sandbox, sandboxId, claim.command, limits.commandTimeoutMs, progress),
      matches: (output) => matchReproduction(claim.expectedFailure, output),
      confirmationRuns: Math.max(1, limits.confirmationRuns),
      passedVerdict: 'the test passed on run 1, so it proves no bug at this revision',
    });
  } finally {
    await applyDiff(session, workspace);
  }
  if ('verdict' in reproduced) return refused(reproduced.verdict, reproduced.evidence.outputTail);
  const runs = reproduced.runsBefore.length;
  const finding: QaProvenFinding = {
    title: claim.title,
    detail: claim.detail,
    testPath,
    testSource,
    command: claim.command,
    expectedFailure: claim.expectedFailure,
    failingRuns: runs,
    evidence: reproduced.runsBefore.at(-1)!.outputTail.slice(-EVIDENCE_CHARS),
    areas: claim.areas ?? mission.areas,
  };
  return {
    toolCallId,
    isError: false,
    content: `Proven and recorded: ${claim.title}. The test failed in ${runs} of ${runs} runs as stated (${reproduced.match.explanation}) Go on exploring, or finish.\n${FINDING_RECORD_PREFIX}${JSON.stringify(finding)}`,
  };
}

/**
 * What a mission did, read off its stored messages alone: the same messages give the same record,
 * so a retry that replays them comes to the same outcome as the try that stored them.
 */
class MissionRecord {
  readonly filesRead: string[] = [];
  readonly commandsRun: string[] = [];
  readonly testsWritten: string[] = [];
  readonly findings: QaProvenFinding[] = [];
  readonly leads: QaLead[] = [];
  /** Claims the gate refused and no later claim of the same title proved, with the gate's last reason. */
  private readonly unproven = new Map<string, { claim: QaMissionToolInput<'report_finding'>; reason: string }>();
  finished = false;

  private constructor(private readonly mission: QaMissionPlan) {}

  static of(mission: QaMissionPlan, stored: StoredMessage[]): MissionRecord {
    const record = new MissionRecord(mission);
    const sorted = [...stored].sort((a, b) => a.seq - b.seq);
    for (const entry of sorted) {
      if (entry.message.role !== 'assistant') continue;
      const results = sorted.find((m) => m.seq === entry.seq + 1)?.message;
      if (results?.role !== 'tool_results') continue;
      for (const call of entry.message.toolCalls) {
        const result = results.results.find((r) => r.toolCallId === call.id);
        if (result) record.absorb(call, result);
      }
    }
    return record;
  }

  absorb(call: ToolCall, result: ToolResult): void {
    if (!isQaMissionToolName(call.name)) return;
    const parsed = QA_MISSION_TOOL_SCHEMAS[call.name].safeParse(call.input ?? {});
    if (!parsed.success) return;
    if (result.isError) {
      if (call.name === 'report_finding') {
        const claim = parsed.data as QaMissionToolInput<'report_finding'>;
        const reason = /^Not proven: (.*)\.$/m.exec(result.content)?.[1] ?? result.content.split('\n')[0]!;
        if (!this.findings.some((f) => titleKey(f.title) === titleKey(claim.title))) this.unproven.set(titleKey(claim.title), { claim, reason });
      }
      return;
    }
    switch (call.name) {
      case 'read_file':
        addOnce(this.filesRead, normalizeWorkspacePath((parsed.data as QaMissionToolInput<'read_file'>).path));
        return;
      case 'write_file':
        addOnce(this.testsWritten, normalizeWorkspacePath((parsed.data as QaMissionToolInput<'write_file'>).path));
        return;
      case 'run_command':
        addOnce(this.commandsRun, (parsed.data as QaMissionToolInput<'run_command'>).command);
        return;
      case 'report_finding': {
        const line = result.content.split('\n').filter((l) => l.startsWith(FINDING_RECORD_PREFIX)).at(-1);
        if (!line) return;
        const finding = JSON.parse(line.slice(FINDING_RECORD_PREFIX.length)) as QaProvenFinding;
        this.findings.push(finding);
        addOnce(this.commandsRun, finding.command);
        this.unproven.delete(titleKey(finding.title));
        return;
      }
      case 'report_lead': {
        const lead = parsed.data as QaMissionToolInput<'report_lead'>;
        this.leads.push({ missionId: this.mission.id, title: lead.title, detail: lead.detail, areas: lead.areas ?? this.mission.areas });
        return;
      }
      case 'finish':
        this.finished = true;
        return;
      default:
        return;
    }
  }

  outcome(run: { turns: number; endedBecause: QaMissionOutcome['endedBecause']; costUsd: number }): QaMissionOutcome {
    // A claim never proven is a hunch: it goes to the report as a lead, with why the gate refused it.
    const unprovenLeads: QaLead[] = [...this.unproven.values()].map(({ claim, reason }) => ({
      missionId: this.mission.id,
      title: claim.title,
      detail: `${claim.detail}\nNot proven: ${reason} (test ${normalizeWorkspacePath(claim.testPath)}).`,
      areas: claim.areas ?? this.mission.areas,
    }));
    const areasCovered: string[] = [];
    for (const area of [...this.mission.areas, ...this.filesRead]) addOnce(areasCovered, area);
    return {
      missionId: this.mission.id,
      findings: [...this.findings],
      leads: [...this.leads, ...unprovenLeads],
      areasCovered,
      filesRead: [...this.filesRead],
      commandsRun: [...this.commandsRun],
      testsWritten: [...this.testsWritten],
      costUsd: run.costUsd,
      turns: run.turns,
      endedBecause: run.endedBecause,
    };
  }
}

function titleKey(title: string): string {
  return title.trim().toLowerCase().replace(/\s+/g, ' ');
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
