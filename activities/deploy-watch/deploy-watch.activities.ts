import { Context } from '@temporalio/activity';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { DeployEvent } from '../../domain/deploy';
import { LogTemplateMiner } from '../../domain/log-template-miner';
import {
  observeRegressionTest,
  startRegressionTest,
  type BaselineSignature,
  type RegressionTestSettings,
  type RegressionTestState,
  type SignatureEvidence,
} from '../../domain/regression/sequential-test';
import type { LogsPort } from '../../ports/logs.port';
import type { DeployRecord, SignatureStorePort } from '../../ports/signature-store.port';
import { countUntil, floorToHour, mineWindow, readWindow } from './signature-counting';

const HOUR_MS = 3_600_000;
/** A poll reads at most this many new error logs; a flood past it is sampled, and the poll says so. */
const MAX_LOGS_PER_POLL = 50_000;
/** Samples kept per signature since the deploy, for the triage and the reproduction. */
const MAX_SAMPLED_SIGNATURES = 200;
const MAX_SAMPLE_CHARS = 4_000;

export interface ErrorSample {
  message: string;
  stackTrace: string | null;
  timestamp: string | null;
}

/** What a watch keeps between polls (in the store, not the history): the test, and a sample per signature. */
interface WatchTest {
  test: RegressionTestState;
  /** Cumulative error counts per signature since the deploy. */
  after: Record<string, { template: string; count: number }>;
  samples: Record<string, ErrorSample>;
}

export interface BaselineSummary {
  /** Signatures with a baseline count. */
  signatures: number;
  baselineHours: number;
  logsRead: number;
  logsMatched: number;
  sampledHours: number;
  /** Shown in the watch's details when the read cap made the counts estimates. */
  samplingNote: string | null;
}

export interface PollResult {
  pollIndex: number;
  polledUntil: string;
  examined: number;
  logsRead: number;
  logsMatched: number;
  newlyFlagged: SignatureEvidence[];
  top: SignatureEvidence[];
}

export interface DeployWatchActivityDeps {
  /** Null where no log source is configured: the watch's activities then fail, naming what is missing. */
  logs: LogsPort | null;
  signatures: SignatureStorePort | null;
}

/** The deploy watch's reads and writes: the deploy's record, the baseline, and each poll of the live test. */
export function createDeployWatchActivities(deps: DeployWatchActivityDeps) {
  const configured = (): { logs: LogsPort; signatures: SignatureStorePort } => {
    if (!deps.logs || !deps.signatures) {
      const missing = [deps.logs ? null : 'a logs source', deps.signatures ? null : 'the signature store'].filter(Boolean).join(' and ');
      throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, `this worker has no ${missing}, which the deploy watch reads`);
    }
    return { logs: deps.logs, signatures: deps.signatures };
  };
  return {
    /** Records the deploy, and answers the deploys before it (newest first) for the triage's lookback. */
    async recordDeploy(input: { watchId: string; deploy: DeployEvent; lookback: number }): Promise<{ earlier: DeployRecord[] }> {
      const { signatures } = configured();
      const { deploy } = input;
      await signatures.recordDeploy({
        watchId: input.watchId,
        service: deploy.service,
        revision: deploy.revision,
        previousRevision: deploy.previousRevision,
        environment: deploy.environment,
        deployedAt: deploy.deployedAt,
        verdict: 'pending',
      });
      return { earlier: await signatures.deploysBefore(deploy.service, deploy.deployedAt, input.lookback) };
    },

    async setDeployVerdict(input: { watchId: string; verdict: string }): Promise<void> {
      const { signatures } = configured();
      await signatures.setDeployVerdict(input.watchId, input.verdict);
    },

    /**
     * Brings the service's hourly counts up to the deploy (only the hours not counted before) and
     * starts the watch's test on the `baselineDays` before it. Heartbeats each counted hour; a retry
     * resumes from the store, where each hour was committed.
     */
    async startWatchTest(input: {
      watchId: string;
      service: string;
      deployedAt: string;
      baselineDays: number;
      maxLogs: number;
      settings: RegressionTestSettings;
    }): Promise<BaselineSummary> {
      const { logs, signatures } = configured();
      const context = Context.current();
      const deployedAt = Date.parse(input.deployedAt);
      const baselineStart = floorToHour(deployedAt - input.baselineDays * 24 * HOUR_MS);
      // Whole clock hours only: the hour the deploy falls in is partly after it.
      const baselineEnd = floorToHour(deployedAt);
      const counted = await countUntil({ logs, signatures }, { service: input.service, from: baselineStart, until: deployedAt, maxLogs: input.maxLogs }, (progress) => {
        context.heartbeat(progress);
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
      });
      const hours = Math.max(0, Math.round((baselineEnd - baselineStart) / HOUR_MS));
      const rows = await signatures.hourlyCounts(input.service, new Date(baselineStart).toISOString(), new Date(baselineEnd).toISOString());
      const templates = new Map((await signatures.templates(input.service)).map((t) => [t.signature, t.template]));
      const bySignature = new Map<string, BaselineSignature>();
      let lowestFraction = 1;
      for (const row of rows) {
        const entry = bySignature.get(row.signature) ?? { signature: row.signature, template: templates.get(row.signature) ?? '', hourlyCounts: new Array<number>(hours).fill(0) };
        const index = Math.round((Date.parse(row.hour) - baselineStart) / HOUR_MS);
        if (index >= 0 && index < hours) entry.hourlyCounts[index] = row.count;
        lowestFraction = Math.min(lowestFraction, row.sampledFraction);
        bySignature.set(row.signature, entry);
      }
      const test = startRegressionTest([...bySignature.values()], input.settings);
      const watch: WatchTest = { test, after: {}, samples: {} };
      await signatures.saveWatchTest(input.watchId, { pollIndex: 0, polledUntil: input.deployedAt, state: watch, lastResult: null });
      return {
        signatures: bySignature.size,
        baselineHours: hours,
        logsRead: counted.logsRead,
        logsMatched: counted.logsMatched,
        sampledHours: counted.sampledHours,
        samplingNote:
          counted.sampledHours > 0 || lowestFraction < 1
            ? `Baseline sampled: ${counted.sampledHours} of ${hours} hours held more error logs than the cap of ${input.maxLogs} allowed; as little as ${(lowestFraction * 100).toFixed(1)}% of an hour was read, and its counts scaled up.`
            : null,
      };
    },

    /**
     * One look of the live test: the error logs since the last poll are mined into signatures and
     * added to the counts since the deploy, and the test says which signatures the evidence now
     * flags. A retried poll finds its result already saved and returns it unchanged.
     */
    async pollWatchTest(input: { watchId: string; service: string; deployedAt: string; pollIndex: number; pollAt: string }): Promise<PollResult> {
      const { logs, signatures } = configured();
      const saved = await signatures.loadWatchTest<WatchTest, PollResult>(input.watchId);
      if (!saved) throw new Error(`deploy watch ${input.watchId} has no test started: startWatchTest runs before the first poll`);
      if (saved.pollIndex >= input.pollIndex && saved.lastResult) return saved.lastResult;
      const from = Date.parse(saved.polledUntil);
      const until = Date.parse(input.pollAt);
      const window = until > from ? await readWindow(logs, input.service, from, until, MAX_LOGS_PER_POLL) : { logs: [], total: 0 };
      const fraction = window.total > 0 ? window.logs.length / window.total : 1;

      const mining = await signatures.loadMining(input.service);
      const miner = mining.miner ? LogTemplateMiner.fromState(mining.miner) : new LogTemplateMiner();
      const watch = saved.state;
      const mined = mineWindow(miner, window.logs, fraction, from);
      for (const { log, id, template } of mined.matches) {
        const entry = watch.after[id] ?? { template, count: 0 };
        entry.template = template;
        entry.count += 1 / fraction;
        watch.after[id] = entry;
        if (!watch.samples[id] && Object.keys(watch.samples).length < MAX_SAMPLED_SIGNATURES) {
          watch.samples[id] = { message: log.message.slice(0, MAX_SAMPLE_CHARS), stackTrace: log.stackTrace?.slice(0, MAX_SAMPLE_CHARS) ?? null, timestamp: log.timestamp };
        }
      }
      // The hourly counts grow with the watch when it is the one that brought them this far; the next deploy's baseline then reads only what is newer.
      if (mining.countedUntil === saved.polledUntil) {
        await signatures.recordMining(input.service, {
          miner: miner.state(),
          countedFrom: mining.countedUntil,
          countedUntil: input.pollAt,
          counts: mined.counts,
          templates: mined.templates,
        });
      }

      const look = observeRegressionTest(watch.test, {
        at: input.pollAt,
        elapsedMs: until - Date.parse(input.deployedAt),
        counts: Object.entries(watch.after).map(([signature, { template, count }]) => ({ signature, template, count })),
      });
      watch.test = look.state;
      const result: PollResult = {
        pollIndex: input.pollIndex,
        polledUntil: input.pollAt,
        examined: look.examined,
        logsRead: window.logs.length,
        logsMatched: window.total,
        newlyFlagged: look.newlyFlagged,
        top: look.top,
      };
      const stored = await signatures.saveWatchTest(input.watchId, { pollIndex: input.pollIndex, polledUntil: input.pollAt, state: watch, lastResult: result });
      if (!stored) {
        // A concurrent attempt of this poll saved first: its answer is the one the workflow keeps.
        const winner = await signatures.loadWatchTest<WatchTest, PollResult>(input.watchId);
        if (winner?.lastResult) return winner.lastResult;
      }
      return result;
    },

    /** The samples of flagged signatures, for the triage and the regression's incident. */
    async flaggedSamples(input: { watchId: string; signatures: string[] }): Promise<Record<string, ErrorSample>> {
      const { signatures } = configured();
      const saved = await signatures.loadWatchTest<WatchTest, PollResult>(input.watchId);
      if (!saved) throw new Error(`deploy watch ${input.watchId} has no test started: there are no samples to read`);
      return Object.fromEntries(input.signatures.filter((s) => saved.state.samples[s]).map((s) => [s, saved.state.samples[s]!]));
    },
  };
}
export type DeployWatchActivities = ReturnType<typeof createDeployWatchActivities>;
