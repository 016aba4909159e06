import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import { PostgresAgentConversations } from '../../adapters/postgres-agent-conversation.adapter';
import { PostgresMonitors } from '../../adapters/postgres-monitors.adapter';
import { demoServicesConfig } from '../../config/config';
import { ERROR_TYPES } from '../../contracts';
import type { ServicesConfig } from '../../domain/service-config';
import type { ConversationRequest, ToolResult } from '../../ports/model.port';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { ScriptedModel, type ScriptedTurn } from '../../test/fakes/scripted-model';
import { createTestDatabase } from '../../test/support/database';
import { activityEnvironment, runActivity } from '../../test/support/reproduced-demo-incident';
import { createGenerationAgentActivities, type ProposeMonitorsInput } from './generation-agent.activities';

const SERVICE = 'checkout';
const IDENTITY = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };
const REFUNDS = `'use strict';

function refundOrder(order, amountCents, log) {
  if (amountCents > order.totalCents) {
    log.error('refund rejected: amount exceeds order total', { orderId: order.id });
    throw new Error('refund rejected');
  }
  return { ...order, status: 'refunded' };
}

module.exports = { refundOrder };
`;

/** A proposal as the model writes it: no service named, since the repository builds one. */
function proposal(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    type: 'log alert',
    query: `logs("service:${SERVICE} status:error \\"refund rejected: amount exceeds order total\\"").index("*").rollup("count").last("5m") > 5`,
    thresholds: { critical: 5 },
    evaluationWindow: '5m',
    priority: 2,
    message: 'Refunds are being rejected.',
    location: { file: 'src/refunds.js', line: 5, symbol: 'refundOrder' },
    matches: [{ literal: 'refund rejected: amount exceeds order total', kind: 'log_message' }],
    rationale: 'Each line is a customer whose refund failed.',
    ...overrides,
  };
}

const call = (id: string, name: string, input: unknown) => ({ id, name, input });
const turn = (text: string, ...toolCalls: ScriptedTurn['toolCalls']): ScriptedTurn => ({ text, toolCalls });
const lastResults = (request: ConversationRequest): ToolResult[] => {
  const last = request.messages.at(-1);
  if (last?.role !== 'tool_results') throw new Error(`the last message is not tool results: ${JSON.stringify(last)}`);
  return last.results;
};

/** Records which sandboxes were destroyed, around a real process sandbox. */
class ObservedSandbox extends ProcessSandbox {
  readonly destroyed: string[] = [];
  override async destroy(sandboxId: string): Promise<void> {
    this.destroyed.push(sandboxId);
    await super.destroy(sandboxId);
  }
}

describe('monitor generation agent (process sandbox over a git repository)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-generation-agent-'));
  const repository = path.join(root, 'checkout');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repository, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
  const services: ServicesConfig = { [SERVICE]: { ...demoServicesConfig(root)['checkout-service']!, repository, githubRepository: null, setupCommand: null } };
  let mergeCommit: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let nextGeneration = 0;

  beforeAll(async () => {
    fs.mkdirSync(repository);
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repository, 'README.md'), '# checkout\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    fs.mkdirSync(path.join(repository, 'src'));
    fs.writeFileSync(path.join(repository, 'src', 'refunds.js'), REFUNDS);
    git('add', '-A');
    git('commit', '-q', '-m', 'refunds');
    mergeCommit = git('rev-parse', 'HEAD');
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  function setUp(script: Record<string, unknown>, options: { services?: string[]; maxTurns?: number; generationId?: string; conversations?: PostgresAgentConversations } = {}) {
    const generationId = options.generationId ?? `monitor-generation-${SERVICE}-${++nextGeneration}`;
    const sandbox = new ObservedSandbox({ root: path.join(root, 'sandboxes') });
    const model = new ScriptedModel(script);
    const conversations = options.conversations ?? new PostgresAgentConversations(database.pool);
    const activities = createGenerationAgentActivities({
      model,
      sandbox,
      conversations,
      codeSearch: new GitCodeSearch({ repositories: { [SERVICE]: repository }, mirrorRoot: path.join(root, 'mirrors') }),
      monitors: new PostgresMonitors(database.pool),
      services: { ...services, billing: services[SERVICE]! },
    });
    const input: ProposeMonitorsInput = { generationId, repository: SERVICE, services: options.services ?? [SERVICE], mergeCommit, changeTitle: 'Refunds', maxTurns: options.maxTurns ?? 4, maxDiffChars: 100_000 };
    const propose = () => runActivity(activityEnvironment(), activities.proposeMonitors, input);
    const sandboxId = `${generationId}-agent`.replace(/[^A-Za-z0-9._-]/g, '_');
    return { generationId, sandbox, sandboxId, model, conversations, propose, key: { incidentId: generationId, attempt: 1 } };
  }

  it('reads the merged code through the sandbox, then takes its proposals with the service defaulted', async () => {
    const agent = setUp({
      'monitors.turn-1': turn('Reading the new file.', call('t1', 'read_file', { path: 'src/refunds.js' })),
      'monitors.turn-2': (request: ConversationRequest) => {
        const [read] = lastResults(request);
        // The file came from the sandbox's checkout at the merge commit, numbered.
        if (read?.isError || !read?.content.includes("log.error('refund rejected: amount exceeds order total'")) throw new Error(`read_file did not reach the model: ${JSON.stringify(read)}`);
        return turn('Proposing.', call('t2', 'propose_monitors', { monitors: [proposal('Rejected refunds')] }));
      },
    });
    const outcome = await agent.propose();
    expect(outcome).toMatchObject({ turns: 2, refused: [], note: null });
    expect(outcome.proposals).toEqual([expect.objectContaining({ name: 'Rejected refunds', service: SERVICE, location: { file: 'src/refunds.js', line: 5, symbol: 'refundOrder' } })]);

    // The task carried the merged diff, and the agent was offered the read-only tools and propose_monitors only.
    const first = agent.model.lastConversation('monitors.turn-1');
    const task = first.messages[0] as { role: 'user'; content: string };
    expect(task.content).toContain(`merge commit ${mergeCommit}`);
    expect(task.content).toContain("+    log.error('refund rejected: amount exceeds order total'");
    expect(first.tools.map((t) => t.name).sort()).toEqual(['grep', 'list_files', 'propose_monitors', 'read_file']);
    expect((await agent.conversations.load(agent.key)).map((m) => m.seq)).toEqual([0, 1, 2, 3]);
  });

  it('sends a proposal that breaks the schema back with its issues while turns remain, and takes the corrected call', async () => {
    const broken = proposal('Rejected refunds', { evaluationWindow: 'five minutes' });
    const agent = setUp({
      'monitors.turn-1': turn('Proposing.', call('p1', 'propose_monitors', { monitors: [proposal('Fine one', { priority: 3 }), broken] })),
      'monitors.turn-2': (request: ConversationRequest) => {
        const [result] = lastResults(request);
        if (!result?.isError || !result.content.endsWith('\n- Rejected refunds: evaluationWindow: a number and m, h or d, such as 5m; evaluationWindow: the query counts over 5m, not five minutes')) throw new Error(`the issues did not reach the model: ${JSON.stringify(result)}`);
        return turn('Corrected.', call('p2', 'propose_monitors', { monitors: [proposal('Fine one', { priority: 3 }), proposal('Rejected refunds')] }));
      },
    });
    const outcome = await agent.propose();
    expect(outcome).toMatchObject({ turns: 2, refused: [], note: null });
    expect(outcome.proposals.map((p) => [p.name, p.evaluationWindow, p.service])).toEqual([
      ['Fine one', '5m', SERVICE],
      ['Rejected refunds', '5m', SERVICE],
    ]);
  });

  it('at the last turn keeps the valid proposals and returns the invalid ones as refused, with why', async () => {
    const broken = proposal('No comparison', { query: `logs("service:${SERVICE} \\"refund rejected\\"").index("*").rollup("count").last("5m")` });
    const wrongService = proposal('Elsewhere', { service: 'inventory' });
    const agent = setUp(
      {
        'monitors.turn-1': turn('Looking around.', call('l1', 'list_files', { path: 'src' })),
        'monitors.turn-2': (request: ConversationRequest) => {
          // The agent is told that its next turn is its last.
          if (!lastResults(request).at(-1)!.content.includes('Your next turn is your last')) throw new Error('no warning of the last turn');
          return turn('Proposing.', call('p1', 'propose_monitors', { monitors: [proposal('Rejected refunds'), broken, wrongService] }));
        },
      },
      { maxTurns: 2 },
    );
    const outcome = await agent.propose();
    expect(outcome.turns).toBe(2);
    expect(outcome.proposals.map((p) => p.name)).toEqual(['Rejected refunds']);
    expect(outcome.refused).toEqual([
      { name: 'No comparison', reason: 'query: a log alert query ends with its comparison (> N, < N)', proposal: broken },
      { name: 'Elsewhere', reason: `service "inventory" is not built from this repository (${SERVICE})`, proposal: wrongService },
    ]);
    expect(agent.model.stepsAsked()).toEqual(['monitors.turn-1', 'monitors.turn-2']);
  });

  it('takes the named service of a repository that builds two, and refuses a call without its list', async () => {
    const agent = setUp(
      {
        'monitors.turn-1': turn('Proposing badly.', call('p1', 'propose_monitors', [proposal('Not wrapped')])),
        'monitors.turn-2': (request: ConversationRequest) => {
          if (!lastResults(request)[0]!.content.includes('- (all): propose_monitors takes {"monitors": [ … ]}')) throw new Error('the shape was not explained');
          return turn('Proposing.', call('p2', 'propose_monitors', { monitors: [proposal('Billing refunds', { service: 'billing' }), proposal('Checkout refunds')] }));
        },
      },
      { services: [SERVICE, 'billing'] },
    );
    const outcome = await agent.propose();
    expect(outcome.proposals.map((p) => [p.name, p.service])).toEqual([
      ['Billing refunds', 'billing'],
      ['Checkout refunds', SERVICE],
    ]);
  });

  it('refuses any tool but the read-only ones, in the model’s terms, and runs nothing for it', async () => {
    const agent = setUp({
      'monitors.turn-1': turn(
        'Trying to change things.',
        call('w1', 'write_file', { path: 'pwned.txt', content: 'x' }),
        call('r1', 'run_command', { command: 'touch ran.txt' }),
        call('g1', 'grep', { pattern: 'refund rejected', path: '.' }),
      ),
      'monitors.turn-2': async (request: ConversationRequest) => {
        const byId = Object.fromEntries(lastResults(request).map((r) => [r.toolCallId, r]));
        for (const [id, name] of [['w1', 'write_file'], ['r1', 'run_command']] as const) {
          if (!byId[id]?.isError || !byId[id]!.content.startsWith(`There is no tool named "${name}" here. The tools are: read_file, list_files, grep, propose_monitors.`)) throw new Error(`${name} was not refused: ${JSON.stringify(byId[id])}`);
        }
        if (byId.g1?.isError || !byId.g1?.content.includes('src/refunds.js')) throw new Error(`grep did not run: ${JSON.stringify(byId.g1)}`);
        // Still inside the activity: the sandbox is open, and holds neither file.
        const present = await agent.sandbox.exec(agent.sandboxId, 'ls pwned.txt ran.txt 2>/dev/null; true', { timeoutMs: 10_000 });
        if (present.outputTail.trim() !== '') throw new Error(`a refused tool ran: ${present.outputTail}`);
        return turn('Nothing to add.', call('p1', 'propose_monitors', { monitors: [] }));
      },
    });
    const outcome = await agent.propose();
    expect(outcome).toEqual({ proposals: [], refused: [], turns: 2, note: 'the agent proposed no monitor' });
  });

  it('asks again, without running anything, when a turn calls no tool; and says so when propose_monitors never comes', async () => {
    const agent = setUp({ 'monitors.turn-1': turn('Thinking.'), 'monitors.turn-2': turn('Still thinking.') }, { maxTurns: 2 });
    const outcome = await agent.propose();
    expect(outcome).toEqual({ proposals: [], refused: [], turns: 2, note: 'the agent did not call propose_monitors within its 2 turns' });
    expect(agent.model.lastConversation('monitors.turn-2').messages.at(-1)).toEqual({ role: 'user', content: 'Call propose_monitors with your proposals (an empty list if the change needs none).' });
  });

  it('replays the stored turns on a retry: the model is asked only for the turns it had not answered', async () => {
    const generationId = `monitor-generation-${SERVICE}-retried`;
    const script: Record<string, unknown> = {
      'monitors.turn-1': turn('Reading.', call('t1', 'read_file', { path: 'src/refunds.js' })),
      'monitors.turn-2': turn('Reading more.', call('t2', 'grep', { pattern: 'refund', path: 'src' })),
    };
    // The first try dies at turn 3: the model has no answer for it (a timeout, say).
    const crashed = setUp(script, { generationId });
    await expect(crashed.propose()).rejects.toMatchObject({ type: ERROR_TYPES.modelRecordingMissing });
    expect(crashed.model.stepsAsked()).toEqual(['monitors.turn-1', 'monitors.turn-2', 'monitors.turn-3']);

    const retried = setUp({ ...script, 'monitors.turn-3': turn('Proposing.', call('p1', 'propose_monitors', { monitors: [proposal('Rejected refunds')] })) }, { generationId });
    const outcome = await retried.propose();
    expect(outcome).toMatchObject({ turns: 3, refused: [] });
    expect(outcome.proposals.map((p) => p.name)).toEqual(['Rejected refunds']);
    expect(retried.model.stepsAsked()).toEqual(['monitors.turn-3']);
    // The retry saw the first try's stored tool results, not new ones.
    expect(retried.model.lastConversation('monitors.turn-3').messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'assistant', 'tool_results']);

    // A third run of a finished conversation asks the model nothing at all.
    const again = setUp({}, { generationId });
    expect(await again.propose()).toEqual(outcome);
    expect(again.model.stepsAsked()).toEqual([]);
    expect((await again.conversations.load(again.key)).map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('destroys its sandbox when it ends, and when it throws', async () => {
    const done = setUp({ 'monitors.turn-1': turn('Proposing.', call('p1', 'propose_monitors', { monitors: [proposal('Rejected refunds')] })) });
    await done.propose();
    expect(done.sandbox.destroyed).toEqual([done.sandboxId]);
    await expect(done.sandbox.exec(done.sandboxId, 'true', { timeoutMs: 5_000 })).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });

    const failed = setUp({ 'monitors.turn-1': turn('Reading.', call('t1', 'read_file', { path: 'src/refunds.js' })) });
    await expect(failed.propose()).rejects.toMatchObject({ type: ERROR_TYPES.modelRecordingMissing });
    expect(failed.sandbox.destroyed).toEqual([failed.sandboxId]);
    await expect(failed.sandbox.exec(failed.sandboxId, 'true', { timeoutMs: 5_000 })).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
  });

  it('refuses to run without code search or a service, by type, before opening a sandbox', async () => {
    const sandbox = new ObservedSandbox({ root: path.join(root, 'sandboxes') });
    const withoutSearch = createGenerationAgentActivities({ model: new ScriptedModel(), sandbox, conversations: new PostgresAgentConversations(database.pool), codeSearch: null, monitors: new PostgresMonitors(database.pool), services });
    const input: ProposeMonitorsInput = { generationId: 'g-none', repository: SERVICE, services: [SERVICE], mergeCommit, changeTitle: null, maxTurns: 2, maxDiffChars: 100_000 };
    await expect(runActivity(activityEnvironment(), withoutSearch.proposeMonitors, input)).rejects.toMatchObject({ type: ERROR_TYPES.deployWatchNotConfigured });
    const agent = setUp({}, { services: [] });
    await expect(agent.propose()).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid });
    expect([...sandbox.destroyed, ...agent.sandbox.destroyed]).toEqual([]);
  });
});
