import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ConsoleNotifier } from '../../adapters/console-notifier.adapter';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import { LocalGitCodeHost } from '../../adapters/local-git-code-host.adapter';
import { PostgresIncidentLedger } from '../../adapters/postgres-incident-ledger.adapter';
import { PostgresMonitors, upsertMonitor } from '../../adapters/postgres-monitors.adapter';
import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { demoServicesConfig } from '../../config/config';
import { ERROR_TYPES, type MergedChange } from '../../contracts';
import { LogTemplateMiner } from '../../domain/log-template-miner';
import type { ServicesConfig } from '../../domain/service-config';
import { InMemoryCodeHost } from '../../test/fakes/in-memory-code-host';
import { InMemoryGeneratedMonitors } from '../../test/fakes/in-memory-generated-monitors';
import { ScriptedModel } from '../../test/fakes/scripted-model';
import { createTestDatabase } from '../../test/support/database';
import { createMonitorGenerationActivities, type GenerationReport, type MonitorGenerationDeps, type OriginInput } from './monitor-generation.activities';
import type { ServiceMonitorProposal } from './proposal-types';

const SERVICE = 'checkout';
const IDENTITY = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };
const NOW = new Date('2026-12-02T12:30:00.000Z');
const HOUR_MS = 3_600_000;
const WEBHOOK = '@webhook-steward';

/** The refunds module before the change: thirty lines, none of which a monitor was written for. */
const BEFORE = Array.from({ length: 30 }, (_, i) => `// line ${i + 1} of the refunds module`);
/** The change adds two blocks far apart: an error path near the top, another near the bottom. */
const AFTER = [
  ...BEFORE.slice(0, 4),
  "log.error('refund rejected: amount exceeds order total', { orderId });",
  "throw new Error('refund rejected');",
  ...BEFORE.slice(4, 20),
  "log.error('refund ledger write failed after retries', { orderId });",
  "metrics.increment('refunds.ledger.failed');",
  ...BEFORE.slice(20),
];

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

function logAlert(name: string, phrase: string, overrides: Partial<ServiceMonitorProposal> = {}): ServiceMonitorProposal {
  return {
    name,
    service: SERVICE,
    type: 'log alert',
    query: `logs("service:${SERVICE} status:error \\"${phrase}\\"").index("*").rollup("count").last("5m") > 5`,
    thresholds: { critical: 5 },
    evaluationWindow: '5m',
    priority: 2,
    message: `${name}.`,
    location: { file: 'src/refunds.js', line: 5 },
    matches: [{ literal: phrase, kind: 'log_message' }],
    rationale: 'A new error path of refunds.',
    ...overrides,
  };
}

describe('monitor generation activities', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-monitor-generation-'));
  const repository = path.join(root, 'checkout');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repository, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
  const commit = (files: Record<string, string | Buffer | null>, message: string): string => {
    for (const [file, content] of Object.entries(files)) {
      const full = path.join(repository, file);
      if (content === null) fs.rmSync(full);
      else {
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content);
      }
    }
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  const services: ServicesConfig = { [SERVICE]: { ...demoServicesConfig(root)['checkout-service']!, repository, githubRepository: null } };

  let base: string;
  let change: string;
  let removal: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let monitors: PostgresMonitors;
  let signatures: PostgresSignatureStore;
  let ledger: PostgresIncidentLedger;
  let notificationsLog: string;

  beforeAll(async () => {
    fs.mkdirSync(repository);
    git('init', '-q', '-b', 'main');
    base = commit({ 'src/refunds.js': `${BEFORE.join('\n')}\n`, 'README.md': '# checkout\n' }, 'base');
    change = commit(
      {
        'src/refunds.js': `${AFTER.join('\n')}\n`,
        'test/refunds.test.js': "test('refunds', () => {});\n",
        'README.md': '# checkout\n\nRefunds now fail loudly.\n',
        'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x00, 0x0d, 0xff, 0x00]),
      },
      'refunds fail loudly',
    );
    removal = commit({ 'src/refunds.js': null }, 'refunds are gone');
    database = await createTestDatabase();
    monitors = new PostgresMonitors(database.pool);
    signatures = new PostgresSignatureStore(database.pool);
    ledger = new PostgresIncidentLedger(database.pool);
    notificationsLog = path.join(root, 'notifications.jsonl');
  });
  afterAll(async () => {
    await database?.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  function setUp(overrides: Partial<MonitorGenerationDeps> = {}) {
    const codeHost = new InMemoryCodeHost({ repositories: { [repository]: { main: removal, [change]: change, [removal]: removal } } });
    const generated = new InMemoryGeneratedMonitors(() => NOW);
    const deps: MonitorGenerationDeps = {
      codeSearch: new GitCodeSearch({ repositories: { [SERVICE]: repository }, mirrorRoot: path.join(root, 'mirrors') }),
      monitors,
      generated,
      signatures: null,
      codeHost,
      model: new ScriptedModel(),
      notifier: new ConsoleNotifier({ deliveryLogPath: notificationsLog, print: () => undefined }),
      ledger,
      services,
      baselineDays: 7,
      now: () => NOW,
      ...overrides,
    };
    return { activities: createMonitorGenerationActivities(deps), codeHost, generated };
  }

  const origin = (sha: string): OriginInput => ({ repository: SERVICE, sha, pullRequest: null, changeRef: `commit-${sha}` });

  describe('resolveMergedChange', () => {
    it('asks the code host for the merge commit of a PR known only by its number', async () => {
      const { activities, codeHost } = setUp();
      codeHost.addMergedPullRequest(repository, { number: 42, title: 'Refunds fail loudly', url: 'https://code.example.test/pull/42', mergeCommitSha: change, author: 'dana', headBranch: 'feature/refunds' });
      const asked: MergedChange = { kind: 'pull_request', number: 42, mergeCommitSha: null, title: null, author: null, url: null };
      expect(await activities.resolveMergedChange({ service: SERVICE, change: asked })).toEqual({
        kind: 'pull_request',
        number: 42,
        mergeCommitSha: change,
        title: 'Refunds fail loudly',
        author: 'dana',
        url: 'https://code.example.test/pull/42',
      });
    });

    it('keeps a PR whose merge commit the webhook already gave, without asking the code host', async () => {
      const { activities } = setUp();
      // The host holds no PR #7: asking it would fail.
      const given: MergedChange = { kind: 'pull_request', number: 7, mergeCommitSha: change, title: 't', author: null, url: null };
      expect(await activities.resolveMergedChange({ service: SERVICE, change: given })).toEqual(given);
    });

    it('resolves a commit to its full sha through the code host', async () => {
      const { activities } = setUp({ codeHost: new LocalGitCodeHost({ pool: database.pool }) });
      expect(await activities.resolveMergedChange({ service: SERVICE, change: { kind: 'commit', sha: change.slice(0, 10) } })).toEqual({ kind: 'commit', sha: change });
      expect(await activities.resolveMergedChange({ service: SERVICE, change: { kind: 'commit', sha: 'main' } })).toEqual({ kind: 'commit', sha: removal });
    });

    it("fails with the code host's error type for a PR or commit it does not have, and names an unknown service", async () => {
      const { activities, codeHost } = setUp();
      expect(await failureOf(activities.resolveMergedChange({ service: SERVICE, change: { kind: 'pull_request', number: 404, mergeCommitSha: null, title: null, author: null, url: null } }))).toMatchObject({
        type: ERROR_TYPES.revisionNotFound,
        nonRetryable: true,
      });
      await codeHost.openPullRequest({ repository: { service: SERVICE, location: repository, defaultBranch: 'main' }, incidentId: 'i', branch: 'steward/i', baseRevision: change, title: 'open', body: '', diff: 'diff --git a/x b/x\n', draft: false });
      expect(await failureOf(activities.resolveMergedChange({ service: SERVICE, change: { kind: 'pull_request', number: 1, mergeCommitSha: null, title: null, author: null, url: null } }))).toMatchObject({
        type: ERROR_TYPES.pullRequestNotMerged,
      });
      const local = setUp({ codeHost: new LocalGitCodeHost({ pool: database.pool }) }).activities;
      expect(await failureOf(local.resolveMergedChange({ service: SERVICE, change: { kind: 'commit', sha: 'f'.repeat(40) } }))).toMatchObject({ type: ERROR_TYPES.revisionNotFound });
      expect(await failureOf(activities.resolveMergedChange({ service: 'billing', change: { kind: 'commit', sha: change } }))).toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
    });
  });

  describe('readMergedChange', () => {
    it('reports the classes, the new runtime lines, the binary skipped and what the budget summarized', async () => {
      const { activities } = setUp();
      const read = await activities.readMergedChange({ service: SERVICE, mergeCommit: change, maxDiffChars: 100_000 });
      expect(read).toEqual({
        // In git's order of paths; the image matches no rule.
        filesByClass: 'docs 1, unplaced 1, runtime 1, test 1',
        newRuntimeLines: 4,
        runtimeFiles: ['src/refunds.js'],
        skippedBinary: ['assets/logo.png'],
        summarizedFiles: 0,
        truncated: false,
      });
      const tight = await activities.readMergedChange({ service: SERVICE, mergeCommit: change, maxDiffChars: 1_000 });
      expect(tight.summarizedFiles).toBeGreaterThan(0);
      // The count of new lines is the change's, not the agent's view of it.
      expect(tight.newRuntimeLines).toBe(4);
    });

    it('says that no code search is configured, by type', async () => {
      const { activities } = setUp({ codeSearch: null });
      expect(await failureOf(activities.readMergedChange({ service: SERVICE, mergeCommit: change, maxDiffChars: 100_000 }))).toMatchObject({ type: ERROR_TYPES.deployWatchNotConfigured });
    });
  });

  describe('groundMonitorProposals', () => {
    const ground = (proposals: ServiceMonitorProposal[]) => setUp().activities.groundMonitorProposals({ service: SERVICE, services: [SERVICE], mergeCommit: change, proposals });

    it('keeps a proposal whose literals are in the code, covering the block of new lines nearest its line', async () => {
      const top = logAlert('Rejected refunds', 'refund rejected: amount exceeds order total', { location: { file: 'src/refunds.js', line: 5 } });
      const bottom = logAlert('Ledger failures', 'refund ledger write failed after retries', { location: { file: 'src/refunds.js', line: 26 } });
      const wholeFile = logAlert('Refund errors', 'refund rejected', { location: { file: 'src/refunds.js' } });
      const { kept, dropped } = await ground([top, bottom, wholeFile]);
      expect(dropped).toEqual([]);
      expect(kept.map((k) => [k.proposal.name, k.coveredLines, k.literals])).toEqual([
        ['Rejected refunds', ['src/refunds.js:5', 'src/refunds.js:6'], ['refund rejected: amount exceeds order total']],
        // Line 26 sits past the second block (23-24 new): that block, not the first.
        ['Ledger failures', ['src/refunds.js:23', 'src/refunds.js:24'], ['refund ledger write failed after retries']],
        ['Refund errors', ['src/refunds.js:5', 'src/refunds.js:6', 'src/refunds.js:23', 'src/refunds.js:24'], ['refund rejected']],
      ]);
      expect(kept[0]).toMatchObject({ service: SERVICE, normalizedQuery: expect.not.stringMatching(/> 5$/) });
    });

    it('covers the same lines whether the location is written with ./ or without', async () => {
      const plain = logAlert('Plain', 'refund rejected: amount exceeds order total');
      const dotted = logAlert('Dotted', 'refund rejected: amount exceeds order total', { location: { file: './src/refunds.js', line: 5 } });
      const { kept } = await ground([plain, dotted]);
      // The caps count coverage by `file:line` as the diff names it: another spelling would count the same lines twice.
      expect(kept[1]!.coveredLines).toEqual(kept[0]!.coveredLines);
      expect(kept[1]!.coveredLines).toEqual(['src/refunds.js:5', 'src/refunds.js:6']);
    });

    it('drops a proposal on a fabricated string, and one whose query searches a phrase it does not list, each with its reason', async () => {
      const fabricated = logAlert('Gateway timeouts', 'refund gateway timed out');
      const unlisted = logAlert('Sneaky', 'refund rejected', {
        query: `logs("service:${SERVICE} \\"refund rejected\\" \\"refund gateway timed out\\"").index("*").rollup("count").last("5m") > 5`,
      });
      const { kept, dropped } = await ground([fabricated, unlisted, logAlert('Real', 'refund rejected')]);
      expect(kept.map((k) => k.proposal.name)).toEqual(['Real']);
      expect(dropped).toEqual([
        { name: 'Gateway timeouts', stage: 'grounding', reason: 'dropped: the log message "refund gateway timed out" is not in the code at the merge commit', proposal: fabricated },
        { name: 'Sneaky', stage: 'grounding', reason: expect.stringContaining('"refund gateway timed out", which the proposal does not list among its matches'), proposal: unlisted },
      ]);
      // The literal is in the code after the change, but not before it.
      const before = await setUp().activities.groundMonitorProposals({ service: SERVICE, services: [SERVICE], mergeCommit: base, proposals: [logAlert('Real', 'refund rejected')] });
      expect(before.kept).toEqual([]);
    });

    it('keys a proposal stably across calls, the same for the same query up to threshold and term order, and differently for another query', async () => {
      const proposal = logAlert('Rejected refunds', 'refund rejected');
      const reordered = logAlert('Rejected refunds, again', 'refund rejected', {
        query: `logs("status:error \\"refund rejected\\" service:${SERVICE}").index("*").rollup("count").last("5m") > 50`,
      });
      const other = logAlert('Ledger failures', 'refund ledger write failed after retries');
      const first = await ground([proposal, reordered, other]);
      const second = await ground([proposal]);
      const [a, b, c] = first.kept.map((k) => k.proposalKey);
      expect(a).toMatch(/^[0-9a-f]{20}$/);
      expect(second.kept[0]!.proposalKey).toBe(a);
      expect(b).toBe(a);
      expect(c).not.toBe(a);
      // The key is the service's too: the same query of another service is another monitor.
      const elsewhere = await ground([{ ...proposal, service: 'billing' }]);
      expect(elsewhere.kept[0]!.proposalKey).not.toBe(a);
    });
  });

  describe('validateMonitorProposal', () => {
    async function candidateOf(proposal: ServiceMonitorProposal, activities = setUp().activities) {
      const { kept } = await activities.groundMonitorProposals({ service: SERVICE, services: [SERVICE], mergeCommit: change, proposals: [proposal] });
      expect(kept).toHaveLength(1);
      return kept[0]!;
    }
    const validate = async (proposal: ServiceMonitorProposal, deps: Partial<MonitorGenerationDeps> = {}) => {
      const { activities } = setUp(deps);
      return activities.validateMonitorProposal({ candidate: await candidateOf(proposal, activities), origin: origin(change), webhookHandle: WEBHOOK, targetFalseFiresPerQuarter: 1 });
    };

    /** A week of steady hourly counts of one message, recorded the way the deploy watch's mining records them. */
    async function recordSteadyBaseline(service: string, message: string, perHour: number): Promise<void> {
      const miner = new LogTemplateMiner();
      const { id, template } = miner.learn(message);
      const end = Math.floor(NOW.getTime() / HOUR_MS) * HOUR_MS;
      const hours = Array.from({ length: 7 * 24 }, (_, i) => new Date(end - (7 * 24 - i) * HOUR_MS).toISOString());
      const recorded = await signatures.recordMining(service, {
        miner: miner.state(),
        countedFrom: null,
        countedUntil: new Date(end).toISOString(),
        counts: hours.map((hour) => ({ signature: id, hour, count: perHour, sampledFraction: 1 })),
        templates: [{ signature: id, template, seenAt: hours[0]! }],
      });
      expect(recorded).toBe(true);
    }

    it('sets a stated default without a baseline, and the definition validates', async () => {
      const verdict = await validate(logAlert('Rejected refunds', 'refund rejected: amount exceeds order total'));
      expect(verdict).toMatchObject({ valid: true, evaluatedLocally: true, candidate: { thresholds: { critical: 10, warning: 2, source: 'default', explanation: expect.stringContaining('no baseline') } } });
      // A store that holds nothing for the service is no baseline either.
      const empty = await validate(logAlert('Rejected refunds', 'refund rejected: amount exceeds order total'), { signatures });
      expect(empty).toMatchObject({ valid: true, candidate: { thresholds: { source: 'default', critical: 10 } } });
    });

    it("counts thresholds from the signature's hourly baseline: above the window's mean, higher for a louder signature", async () => {
      const message = 'refund ledger write failed after retries';
      await recordSteadyBaseline(SERVICE, message, 30);
      const steady = await validate(logAlert('Ledger failures', message, { location: { file: 'src/refunds.js', line: 23 } }), { signatures });
      if (!steady.valid) throw new Error(`invalid: ${steady.errors.join('; ')}`);
      const { thresholds } = steady.candidate;
      expect(thresholds.source).toBe('baseline');
      expect(thresholds.explanation).toContain('5040 lines over 168 h');
      // 30 an hour is 2.5 in five minutes: the critical sits above that mean, whatever the model proposed (5).
      expect(thresholds.critical).toBeGreaterThan(2.5);
      expect(thresholds.warning).not.toBeNull();
      expect(thresholds.warning!).toBeLessThan(thresholds.critical!);

      const loud = 'loud-service';
      await recordSteadyBaseline(loud, message, 600);
      const louder = await validate({ ...logAlert('Ledger failures', message, { location: { file: 'src/refunds.js', line: 23 } }), service: loud }, { signatures, services: { ...services, [loud]: services[SERVICE]! } });
      if (!louder.valid) throw new Error(`invalid: ${louder.errors.join('; ')}`);
      expect(louder.candidate.thresholds.source).toBe('baseline');
      expect(louder.candidate.thresholds.critical!).toBeGreaterThan(50);
      expect(louder.candidate.thresholds.critical!).toBeGreaterThan(thresholds.critical!);
    });

    it("returns an invalid query's errors as Datadog words them, without throwing", async () => {
      const broken = logAlert('Broken', 'refund rejected', {
        query: `logs("service:${SERVICE} (\\"refund rejected\\"").index("*").rollup("count").last("5m") > 5`,
      });
      const verdict = await validate(broken);
      expect(verdict.valid).toBe(false);
      if (verdict.valid) return;
      expect(verdict.errors).toEqual([expect.stringMatching(/^The value provided for parameter 'query' is invalid: /)]);
    });

    it("keeps a query alert's own thresholds, labelled as the proposal's", async () => {
      const latency = logAlert('Refund latency', 'refunds.ledger.failed', {
        type: 'query alert',
        query: `avg(last_5m):avg:trace.refunds.ledger.failed{service:${SERVICE}} > 0.8`,
        thresholds: { critical: 0.8, warning: 0.5 },
        location: { file: 'src/refunds.js', line: 24 },
        matches: [{ literal: 'refunds.ledger.failed', kind: 'span' }],
      });
      const verdict = await validate(latency, { signatures });
      expect(verdict).toMatchObject({ valid: true, evaluatedLocally: false, candidate: { thresholds: { critical: 0.8, warning: 0.5, source: 'proposal' } } });
    });
  });

  describe('existingMonitorQueries', () => {
    it("counts two hand-written queries that differ only in term order as one, and leaves this generation's own monitors out", async () => {
      const tag = `suite:existing-${Date.now()}`;
      const phrase = 'refund rejected: amount exceeds order total';
      for (const [name, search] of [
        ['one', `service:${SERVICE} status:error \\"${phrase}\\"`],
        ['two', `status:error \\"${phrase}\\" service:${SERVICE}`],
      ]) {
        await monitors.create({ name: `hand-written ${name}`, type: 'log alert', query: `logs("${search}").index("*").rollup("count").last("5m") > 3`, message: '', tags: [tag], criticalThreshold: 3 });
      }
      const { activities, generated } = setUp();
      const before = await activities.existingMonitorQueries({ repository: SERVICE, services: [SERVICE], excludeGenerationId: 'gen-existing' });
      const ofTag = (await monitors.list({ tag })).map((m) => m.query);
      expect(ofTag).toHaveLength(2);
      const normalized = before.normalizedQueries.filter((q) => q.includes(phrase));
      expect(new Set(normalized).size).toBe(1);
      expect(normalized.length).toBeGreaterThanOrEqual(2);

      // A monitor this generation created (a retried run) is no duplicate of itself, nor counted against the repository.
      const { kept } = await activities.groundMonitorProposals({ service: SERVICE, services: [SERVICE], mergeCommit: change, proposals: [logAlert('Ours', 'refund ledger write failed after retries')] });
      const verdict = await activities.validateMonitorProposal({ candidate: kept[0]!, origin: origin(change), webhookHandle: WEBHOOK, targetFalseFiresPerQuarter: 1 });
      if (!verdict.valid) throw new Error('invalid');
      const created = await activities.createGeneratedMonitor({ generationId: 'gen-existing', service: SERVICE, candidate: { ...verdict.candidate, evaluatedLocally: verdict.evaluatedLocally }, origin: origin(change), webhookHandle: WEBHOOK });
      const mine = await activities.existingMonitorQueries({ repository: SERVICE, services: [SERVICE], excludeGenerationId: 'gen-existing' });
      expect(mine.normalizedQueries).not.toContain(kept[0]!.normalizedQuery);
      expect(mine.generatedInRepository).toBe(0);
      const others = await activities.existingMonitorQueries({ repository: SERVICE, services: [SERVICE], excludeGenerationId: 'gen-later' });
      expect(others.normalizedQueries).toContain(kept[0]!.normalizedQuery);
      expect(others.generatedInRepository).toBe(1);
      await monitors.delete(created.monitorId);
      await generated.markRetired(created.monitorId, 'test over');
    });
  });

  describe('createGeneratedMonitor', () => {
    it('creates once per generation and proposal: a retry returns the same monitor and creates nothing', async () => {
      const { activities, generated } = setUp();
      const { kept } = await activities.groundMonitorProposals({ service: SERVICE, services: [SERVICE], mergeCommit: change, proposals: [logAlert('Rejected refunds', 'refund rejected: amount exceeds order total')] });
      const verdict = await activities.validateMonitorProposal({ candidate: kept[0]!, origin: origin(change), webhookHandle: WEBHOOK, targetFalseFiresPerQuarter: 1 });
      if (!verdict.valid) throw new Error('invalid');
      const input = { generationId: 'gen-create', service: SERVICE, candidate: { ...verdict.candidate, evaluatedLocally: verdict.evaluatedLocally }, origin: origin(change), webhookHandle: WEBHOOK };
      const countBefore = (await monitors.list({ createdBySteward: true })).length;

      const first = await activities.createGeneratedMonitor(input);
      const second = await activities.createGeneratedMonitor(input);
      expect(second).toEqual(first);
      expect((await monitors.list({ createdBySteward: true })).length).toBe(countBefore + 1);
      expect(first).toMatchObject({ name: 'Rejected refunds', critical: 10, thresholdSource: 'default', file: 'src/refunds.js', query: expect.stringMatching(/> 10$/) });
      const stored = await monitors.get(first.monitorId);
      expect(stored.message).toContain(WEBHOOK);
      expect(stored.tags).toEqual(expect.arrayContaining(['created_by:steward', 'steward_file:src/refunds.js']));
      expect(await generated.listActive({ repository: SERVICE })).toEqual([
        expect.objectContaining({ monitorId: first.monitorId, generationId: 'gen-create', proposalKey: kept[0]!.proposalKey, coveredLines: ['src/refunds.js:5', 'src/refunds.js:6'], changeRef: `commit-${change}` }),
      ]);
      await monitors.delete(first.monitorId);
    });
  });

  describe('retireMonitorsOfDeletedCode', () => {
    it("deletes and marks retired the generated monitors of a deleted file, counts one already gone, and never touches a hand-written one", async () => {
      const { activities, generated } = setUp();
      const { kept } = await activities.groundMonitorProposals({
        service: SERVICE,
        services: [SERVICE],
        mergeCommit: change,
        proposals: [logAlert('Rejected refunds', 'refund rejected: amount exceeds order total'), logAlert('Ledger failures', 'refund ledger write failed after retries', { location: { file: 'src/refunds.js', line: 23 } })],
      });
      const created = [];
      for (const candidate of kept) {
        const verdict = await activities.validateMonitorProposal({ candidate, origin: origin(change), webhookHandle: WEBHOOK, targetFalseFiresPerQuarter: 1 });
        if (!verdict.valid) throw new Error('invalid');
        created.push(await activities.createGeneratedMonitor({ generationId: 'gen-retire', service: SERVICE, candidate: { ...verdict.candidate, evaluatedLocally: verdict.evaluatedLocally }, origin: origin(change), webhookHandle: WEBHOOK }));
      }
      // Someone deleted one on the platform already; another generated one watches a file the change keeps.
      const goneId = created[1]!.monitorId;
      await monitors.delete(goneId);
      const vanished = {
        monitorId: 'monitor-never-on-the-platform',
        generationId: 'gen-retire',
        proposalKey: 'k-vanished',
        repository: SERVICE,
        service: SERVICE,
        changeRef: `commit-${change}`,
        pullRequestNumber: null,
        sourceSha: change,
        name: 'Vanished',
        type: 'log alert',
        query: 'q',
        normalizedQuery: 'q',
        file: 'src/refunds.js',
        literals: ['refund rejected'],
        coveredLines: [],
        critical: 5,
        warning: null,
        thresholdSource: 'default' as const,
        evaluatedLocally: true,
      };
      await generated.recordCreated(vanished);
      await generated.recordCreated({ ...vanished, monitorId: 'monitor-of-readme', proposalKey: 'k-readme', name: 'Readme', file: 'README.md', literals: ['checkout'] });
      const handWritten = await upsertMonitor(database.pool, {
        id: 'hand-written-refunds',
        name: 'Refunds (hand-written)',
        type: 'log alert',
        query: `logs("service:${SERVICE} \\"refund rejected\\"").index("*").rollup("count").last("5m") > 1`,
        message: 'Ours.',
        tags: ['team:payments', 'steward_file:src/refunds.js'],
        criticalThreshold: 1,
        evaluationWindow: '5m',
      });

      const retired = await activities.retireMonitorsOfDeletedCode({ repository: SERVICE, service: SERVICE, mergeCommit: removal, changeRef: `commit-${removal}` });
      expect(retired.map((r) => r.monitorId).sort()).toEqual([created[0]!.monitorId, goneId, 'monitor-never-on-the-platform'].sort());
      for (const r of retired) expect(r.reason).toBe(`the change deletes src/refunds.js (commit-${removal}, ${removal.slice(0, 12)})`);
      expect((await generated.listActive({ repository: SERVICE })).map((m) => m.monitorId)).toEqual(['monitor-of-readme']);
      await expect(monitors.get(created[0]!.monitorId)).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound });
      expect(await monitors.get(handWritten.id)).toMatchObject({ name: 'Refunds (hand-written)', createdBySteward: false });

      // Run again (a retry): nothing is left to retire.
      expect(await activities.retireMonitorsOfDeletedCode({ repository: SERVICE, service: SERVICE, mergeCommit: removal, changeRef: `commit-${removal}` })).toEqual([]);
    });

    it('retires nothing, and reads no diff, when the repository has no generated monitor', async () => {
      const { activities } = setUp({ codeSearch: null });
      expect(await activities.retireMonitorsOfDeletedCode({ repository: SERVICE, service: SERVICE, mergeCommit: removal, changeRef: 'x' })).toEqual([]);
    });
  });

  describe('reporting', () => {
    const report = (generationId: string, change: MergedChange, mergeCommit: string): GenerationReport => ({
      generationId,
      repository: SERVICE,
      service: SERVICE,
      change,
      mergeCommit,
      created: [
        { monitorId: 'm-1', name: 'Rejected refunds', type: 'log alert', query: 'logs("x").index("*").rollup("count").last("5m") > 10', service: SERVICE, file: 'src/refunds.js', critical: 10, warning: 2, thresholdSource: 'default', thresholdExplanation: 'no baseline', evaluatedLocally: true },
      ],
      dropped: [{ name: 'Gateway timeouts', stage: 'grounding', reason: 'dropped: not in the code' }],
      retired: [],
    });

    it('comments once per generation on the merge commit, or on the PR, whatever the retries', async () => {
      const { activities, codeHost } = setUp();
      const onCommit = report('gen-comment-commit', { kind: 'commit', sha: change }, change);
      const first = await activities.commentOnMergedChange(onCommit);
      const again = await activities.commentOnMergedChange(onCommit);
      expect(again).toEqual(first);
      const comments = codeHost.commentsOn(repository, { kind: 'commit', sha: change });
      expect(comments).toHaveLength(1);
      expect(comments[0]).toMatchObject({ key: 'monitors:gen-comment-commit', body: expect.stringContaining('Rejected refunds') });

      codeHost.addMergedPullRequest(repository, { number: 42, title: 't', url: 'https://code.example.test/pull/42', mergeCommitSha: change, author: null, headBranch: 'b' });
      const onPr = report('gen-comment-pr', { kind: 'pull_request', number: 42, mergeCommitSha: change, title: 't', author: null, url: 'https://code.example.test/pull/42' }, change);
      await activities.commentOnMergedChange(onPr);
      await activities.commentOnMergedChange(onPr);
      expect(codeHost.commentsOn(repository, { kind: 'pull_request', number: 42 })).toHaveLength(1);
    });

    it('notifies once per generation through the outbox', async () => {
      const { activities } = setUp();
      const generationId = `gen-notify-${Date.now()}`;
      const pr = report(generationId, { kind: 'pull_request', number: 42, mergeCommitSha: change, title: 't', author: null, url: 'https://code.example.test/pull/42' }, change);
      expect(await activities.notifyMonitorsGenerated({ ...pr, commentUrl: null })).toEqual({ sent: true });
      // A retry, and a retry from another worker with a fresh notifier: the ledger holds the delivery.
      expect(await activities.notifyMonitorsGenerated({ ...pr, commentUrl: null })).toEqual({ sent: false });
      expect(await setUp().activities.notifyMonitorsGenerated({ ...pr, commentUrl: null })).toEqual({ sent: false });
      const delivered = fs
        .readFileSync(notificationsLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { incidentId: string; kind: string; key: string; title: string; links: { label: string; url: string }[] })
        .filter((n) => n.incidentId === generationId);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]).toMatchObject({ kind: 'monitors_generated', key: `monitors-generated:${generationId}`, title: `1 monitor for ${SERVICE} #42`, links: [{ label: 'Pull request', url: 'https://code.example.test/pull/42' }] });
    });
  });
});
