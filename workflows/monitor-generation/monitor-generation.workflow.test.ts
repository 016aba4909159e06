import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import { PostgresGeneratedMonitors } from '../../adapters/postgres-generated-monitors.adapter';
import { loadConfig } from '../../config/config';
import { INCIDENT_WORKFLOW_TYPE, incidentWorkflowId, MONITOR_GENERATION_WORKFLOW_TYPE, monitorGenerationWorkflowId, SEARCH_ATTRIBUTES, type MergedChange, type MonitorGenerationInput, type MonitorGenerationPolicy, type MonitorGenerationState } from '../../contracts';
import type { ConversationRequest } from '../../ports/model.port';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../../test/support/harness';
import { recordHistory as recordHistoryOf } from '../../test/support/record-history';

/**
 * Monitor generation on the dev server: the agent (a scripted model) reads the merged code in a
 * process sandbox and proposes; Steward grounds each proposal in the repository with git, validates
 * it with the embedded monitor store's validator (asking again with its errors), drops duplicates
 * of monitors that exist and what passes the cap, creates the rest in Postgres, comments on the
 * change, and, when a later merge deletes the code, deletes the monitors it watched.
 */

const SERVICE = 'checkout-service';
const REFUND_SOURCE = `'use strict';

/** Refunds an order, in part or whole. */
function refundOrder(order, amountCents, log) {
  if (amountCents > order.totalCents) {
    log.error('refund rejected: amount exceeds order total', { orderId: order.id });
    throw new Error('refund rejected');
  }
  if (order.status === 'refunded') {
    log.warn('refund skipped: order already refunded', { orderId: order.id });
    return order;
  }
  log.error('refund ledger write failed after retries', { orderId: order.id });
  return { ...order, status: 'refunded', refundedCents: amountCents };
}

module.exports = { refundOrder };
`;

function git(repository: string, args: string[]): string {
  return execFileSync('git', args, { cwd: repository, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dana', GIT_AUTHOR_EMAIL: 'dana@example.com', GIT_COMMITTER_NAME: 'Dana', GIT_COMMITTER_EMAIL: 'dana@example.com' } }).trim();
}

/** A commit on its own branch of the demo repository, adding or deleting files, leaving the checkout alone. */
function commitOnBranch(repository: string, branch: string, base: string, files: Record<string, string | null>): string {
  const staging = `${repository}.${branch.replace(/\//g, '-')}`;
  git(repository, ['worktree', 'add', '--quiet', '-b', branch, staging, base]);
  try {
    for (const [file, content] of Object.entries(files)) {
      if (content === null) fs.rmSync(`${staging}/${file}`);
      else fs.writeFileSync(`${staging}/${file}`, content);
    }
    git(staging, ['add', '-A']);
    git(staging, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', `change ${Object.keys(files).join(', ')}`]);
    return git(staging, ['rev-parse', 'HEAD']);
  } finally {
    git(repository, ['worktree', 'remove', '--force', staging]);
  }
}

function logAlert(name: string, phrase: string, threshold: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'log alert',
    query: `logs("service:${SERVICE} status:error \\"${phrase}\\"").index("*").rollup("count").last("5m") > ${threshold}`,
    thresholds: { critical: threshold },
    evaluationWindow: '5m',
    priority: 2,
    message: `${name} in refunds.`,
    location: { file: 'src/refunds.js', line: 6, symbol: 'refundOrder' },
    matches: [{ literal: phrase, kind: 'log_message' }],
    rationale: 'A new error path of refunds: each line is a customer whose refund failed.',
    ...extra,
  };
}

const toolCall = (id: string, name: string, input: unknown) => ({ id, name, input });

describe('monitor generation workflow', () => {
  let h: Harness;
  let model: ScriptedModel;
  let root: string;
  let registry: PostgresGeneratedMonitors;
  const policy: MonitorGenerationPolicy = { ...loadConfig({}).monitorGeneration, perChangeCap: 2, maxValidationRetries: 1 };

  beforeAll(async () => {
    h = await createHarness();
    root = git(h.repositoryPath, ['rev-parse', 'main']);
    model = new ScriptedModel();
    registry = new PostgresGeneratedMonitors(h.pool);
    await h.startWorker({
      ports: {
        model,
        codeSearch: new GitCodeSearch({ repositories: { [SERVICE]: h.repositoryPath }, mirrorRoot: `${h.dataDir}/code-search` }),
        generatedMonitors: registry,
        incidentPolicy: testPolicy({ sandboxTaskQueue: sandboxQueueFor(h.taskQueue) }),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function generate(change: MergedChange) {
    const handle = await h.client.workflow.start<(input: MonitorGenerationInput) => Promise<MonitorGenerationState>>(MONITOR_GENERATION_WORKFLOW_TYPE, {
      taskQueue: h.taskQueue,
      workflowId: monitorGenerationWorkflowId(SERVICE, change),
      args: [{ repository: SERVICE, services: [SERVICE], change, trigger: 'cli', policy }],
    });
    return { handle, state: await handle.result() };
  }

  const recordHistory = (name: string, workflowId: string) => recordHistoryOf(h.client, name, workflowId);

  it('keeps grounded proposals, drops a fabricated string, re-asks an invalid one, skips a duplicate and caps the rest; counts a fire and its verdict; then deletes the monitors when the code goes', async () => {
    const added = commitOnBranch(h.repositoryPath, 'feature/refunds', root, { 'src/refunds.js': REFUND_SOURCE });
    // A hand-written monitor already watches the ledger failure: proposing it again is a duplicate.
    await h.monitors.create({
      name: 'Refund ledger failures (hand-written)',
      type: 'log alert',
      query: `logs("status:error service:${SERVICE} \\"refund ledger write failed after retries\\"").index("*").rollup("count").last("5m") > 3`,
      message: 'Hand-written.',
      tags: ['team:payments'],
      criticalThreshold: 3,
    });
    const fabricated = logAlert('Refund gateway timeouts', 'refund gateway timed out', 5);
    const invalid = logAlert('Rejected refunds (broken query)', 'refund rejected: amount exceeds order total', 5, {
      query: `logs("service:${SERVICE} status:error (\\"refund rejected: amount exceeds order total\\"").index("*").rollup("count").last("5m") > 5`,
    });
    const proposals = [
      logAlert('Rejected refunds', 'refund rejected: amount exceeds order total', 5),
      logAlert('Refunds of refunded orders', 'refund skipped: order already refunded', 20, { location: { file: 'src/refunds.js', line: 10 }, priority: 4 }),
      logAlert('Refund ledger write failures', 'refund ledger write failed after retries', 3, { location: { file: 'src/refunds.js', line: 13 } }),
      fabricated,
      invalid,
      // As wide as the others (the whole new file) but the least urgent: the cap leaves it out.
      logAlert('Refund errors, whole file', 'refund rejected', 8, { location: { file: 'src/refunds.js' }, priority: 5 }),
    ];
    model.script('monitors.turn-1', { text: 'Reading the new file.', toolCalls: [toolCall('t1', 'read_file', { path: 'src/refunds.js' })] });
    model.script('monitors.turn-2', (request: ConversationRequest) => {
      // The agent saw the file through the sandbox before it proposed.
      const results = request.messages.at(-1);
      if (results?.role !== 'tool_results' || !results.results[0]!.content.includes('refund ledger write failed')) throw new Error('the read_file result did not reach the model');
      return { text: 'Proposing.', toolCalls: [toolCall('t2', 'propose_monitors', { monitors: proposals })] };
    });
    // Asked again with the validator's errors, the model repeats its mistake: the proposal is dropped after one revision.
    model.script('monitors.revise.rejected-refunds-broken-query.1', invalid);

    const { handle, state } = await generate({ kind: 'commit', sha: added });
    expect(state.status).toBe('closed');
    expect(state.proposed).toBe(6);
    expect(state.filesByClass).toContain('runtime 1');
    expect(state.created.map((m) => m.name).sort()).toEqual(['Refunds of refunded orders', 'Rejected refunds'].sort());
    const stages = Object.fromEntries(state.dropped.map((d) => [d.name, d.stage]));
    expect(stages).toEqual({
      'Refund gateway timeouts': 'grounding',
      'Rejected refunds (broken query)': 'validation',
      'Refund ledger write failures': 'duplicate',
      'Refund errors, whole file': 'cap',
    });
    expect(state.dropped.find((d) => d.stage === 'validation')!.reason).toContain("parameter 'query' is invalid");
    expect(model.lastRequest('monitors.revise.rejected-refunds-broken-query.1').prompt).toContain("parameter 'query' is invalid");

    // Created in the embedded store, tagged and with the webhook, thresholds stated; recorded in the registry with the change.
    const created = (await h.monitors.list({ createdBySteward: true })).filter((m) => state.created.some((c) => c.monitorId === m.id));
    expect(created).toHaveLength(2);
    for (const monitor of created) {
      expect(monitor.tags).toEqual(expect.arrayContaining(['created_by:steward', 'steward_file:src/refunds.js', expect.stringMatching(/^steward_source:checkout-service_/)]));
      expect(monitor.message).toContain(policy.webhookHandle);
      expect(monitor.message).toContain('src/refunds.js');
    }
    expect(state.created.every((m) => m.thresholdSource === 'default' && m.evaluatedLocally)).toBe(true);
    const records = await registry.listActive({ repository: SERVICE });
    expect(records.map((r) => r.changeRef)).toEqual([`commit-${added}`, `commit-${added}`]);
    const drops = await h.pool.query<{ stage: string }>('SELECT stage FROM generated_monitor_drops WHERE generation_id = $1', [handle.workflowId]);
    expect(drops.rows.map((r) => r.stage).sort()).toEqual(['cap', 'duplicate', 'grounding', 'validation']);

    // One comment on the commit and one message to the channel.
    const comments = await h.pool.query<{ body: string }>('SELECT body FROM code_host_comments WHERE commit_sha = $1', [added]);
    expect(comments.rows).toHaveLength(1);
    expect(comments.rows[0]!.body).toContain('Rejected refunds');
    expect(h.deliveredNotifications(handle.workflowId).map((n) => n.kind)).toEqual(['monitors_generated']);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.monitorsCreated)).toBe(2);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.repository)).toBe(SERVICE);
    await recordHistory('monitor-generation-created', handle.workflowId);

    // One of them fires and triage calls it noise: the fire and the verdict are counted on the generated monitor.
    const fired = state.created.find((m) => m.name === 'Rejected refunds')!;
    model.script('triage', { ...(demoTranscriptSteps().triage as object), verdict: 'noise', severity: 'P3', monitorTuning: { criticalThreshold: 40, evaluationWindow: 'last_15m', reason: 'retries of one refund' } });
    const alert = h.alert({ monitorId: fired.monitorId });
    const incident = await h.client.workflow.start(INCIDENT_WORKFLOW_TYPE, { taskQueue: h.taskQueue, workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey), args: [{ alert, policy: testPolicy() }] });
    expect(await incident.result()).toMatchObject({ status: 'noise' });
    expect(await registry.tallies([fired.monitorId])).toEqual([{ monitorId: fired.monitorId, fires: 1, noiseVerdicts: 1, realIncidents: 0 }]);

    // A later merge deletes the file: its generated monitors go (the hand-written one stays).
    const removed = commitOnBranch(h.repositoryPath, 'feature/no-refunds', added, { 'src/refunds.js': null });
    const second = await generate({ kind: 'commit', sha: removed });
    expect(second.state.retired.map((r) => r.name).sort()).toEqual(['Refunds of refunded orders', 'Rejected refunds'].sort());
    expect(second.state.outcome).toContain('nothing new to watch');
    expect(await registry.listActive({ repository: SERVICE })).toEqual([]);
    const remaining = await h.monitors.list();
    expect(remaining.map((m) => m.name)).toContain('Refund ledger failures (hand-written)');
    expect(remaining.map((m) => m.name)).not.toContain('Rejected refunds');
    await recordHistory('monitor-generation-retired', second.handle.workflowId);
  });
});
