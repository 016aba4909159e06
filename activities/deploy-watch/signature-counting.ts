import { LogTemplateMiner } from '../../domain/log-template-miner';
import type { ErrorLog, LogsPort } from '../../ports/logs.port';
import type { SignatureHourCount, SignatureStorePort } from '../../ports/signature-store.port';

const HOUR_MS = 3_600_000;
const PAGE_SIZE = 1_000;

export const floorToHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The first line of a log is what it is grouped by: the rest is stack and context. */
export function signatureTextOf(log: Pick<ErrorLog, 'message'>): string {
  const firstLine = log.message.split('\n').find((line) => line.trim() !== '') ?? '';
  return firstLine.trim();
}

export function errorLogQuery(service: string): string {
  return `service:${service} status:error`;
}

export interface WindowRead {
  logs: ErrorLog[];
  /** How many matched in the window; more than `logs` when the cap stopped the read. */
  total: number;
}

/** Every error log of the service in [from, to), page by page, up to `cap` of them. */
export async function readWindow(logs: LogsPort, service: string, from: number, to: number, cap: number): Promise<WindowRead> {
  const read: ErrorLog[] = [];
  let cursor: string | undefined;
  let total = 0;
  for (;;) {
    const page = await logs.searchErrorLogs({
      query: errorLogQuery(service),
      from: new Date(from).toISOString(),
      // The port's window is inclusive at both ends; the last millisecond belongs to the next window.
      to: new Date(to - 1).toISOString(),
      limit: Math.min(PAGE_SIZE, cap - read.length),
      ...(cursor ? { cursor } : {}),
    });
    read.push(...page.logs);
    total = Math.max(total, page.total, read.length);
    cursor = page.nextCursor ?? undefined;
    if (!cursor || read.length >= cap || page.logs.length === 0) return { logs: read, total: cursor ? Math.max(total, read.length + 1) : total };
  }
}

export interface MinedWindow {
  /** Per signature and clock hour, scaled up by the share of the window that was read. */
  counts: SignatureHourCount[];
  templates: { signature: string; template: string; seenAt: string }[];
  /** Each log's signature, in the order read. */
  matches: { log: ErrorLog; id: string; template: string }[];
}

/** Learns a window's error logs into the miner and counts them per signature and clock hour. */
export function mineWindow(miner: LogTemplateMiner, logs: readonly ErrorLog[], sampledFraction: number, fallbackAt: number): MinedWindow {
  const byKey = new Map<string, SignatureHourCount>();
  const templates = new Map<string, { template: string; seenAt: string }>();
  const matches: MinedWindow['matches'] = [];
  for (const log of logs) {
    const match = miner.learn(signatureTextOf(log));
    const hour = new Date(floorToHour(log.timestamp ? Date.parse(log.timestamp) : fallbackAt)).toISOString();
    const key = `${match.id}@${hour}`;
    const entry = byKey.get(key) ?? { signature: match.id, hour, count: 0, sampledFraction };
    entry.count += 1 / sampledFraction;
    byKey.set(key, entry);
    templates.set(match.id, { template: match.template, seenAt: log.timestamp ?? new Date(fallbackAt).toISOString() });
    matches.push({ log, id: match.id, template: match.template });
  }
  return { counts: [...byKey.values()], templates: [...templates].map(([signature, t]) => ({ signature, ...t })), matches };
}

export interface CountingProgress {
  countedUntil: string;
  logsRead: number;
  logsMatched: number;
  sampledHours: number;
}

/**
 * Counts the service's error logs per signature and clock hour up to `until`, from where the
 * store's counts end (or `from` for a service never counted): one hour at a time, each hour one
 * transaction, so an interrupted count resumes at the hour it had reached. An hour with more error
 * logs than its share of `maxLogs` is sampled: the logs read stand for all, and the hour says so.
 */
export async function countUntil(
  deps: { logs: LogsPort; signatures: SignatureStorePort },
  request: { service: string; from: number; until: number; maxLogs: number },
  onHour: (progress: CountingProgress) => void = () => undefined,
): Promise<CountingProgress> {
  const { service, until } = request;
  let mining = await deps.signatures.loadMining(service);
  // Counts older than the window asked for are of no use: a service counted long ago starts afresh at `from`.
  const start = Math.max(mining.countedUntil ? Date.parse(mining.countedUntil) : request.from, request.from);
  const progress: CountingProgress = { countedUntil: new Date(start).toISOString(), logsRead: 0, logsMatched: 0, sampledHours: 0 };
  if (start >= until) return progress;
  const hours = Math.max(1, Math.ceil((until - start) / HOUR_MS));
  const capPerHour = Math.max(1, Math.floor(request.maxLogs / hours));
  let miner = mining.miner ? LogTemplateMiner.fromState(mining.miner) : new LogTemplateMiner();

  for (let hourStart = start; hourStart < until; ) {
    const hourEnd = Math.min(floorToHour(hourStart) + HOUR_MS, until);
    const window = await readWindow(deps.logs, service, hourStart, hourEnd, capPerHour);
    const fraction = window.total > 0 ? window.logs.length / window.total : 1;
    const mined = mineWindow(miner, window.logs, fraction, hourStart);
    const countedFrom = mining.countedUntil;
    const countedUntil = new Date(hourEnd).toISOString();
    const accepted = await deps.signatures.recordMining(service, {
      miner: miner.state(),
      countedFrom,
      countedUntil,
      counts: mined.counts,
      templates: mined.templates,
    });
    if (!accepted) {
      // Another watch of this service counted the same hours meanwhile: carry on from where it got to.
      mining = await deps.signatures.loadMining(service);
      if (!mining.countedUntil || Date.parse(mining.countedUntil) >= until) return { ...progress, countedUntil: mining.countedUntil ?? progress.countedUntil };
      miner = mining.miner ? LogTemplateMiner.fromState(mining.miner) : new LogTemplateMiner();
      hourStart = Date.parse(mining.countedUntil);
      continue;
    }
    mining = { miner: null, countedUntil };
    progress.countedUntil = countedUntil;
    progress.logsRead += window.logs.length;
    progress.logsMatched += window.total;
    if (fraction < 1) progress.sampledHours += 1;
    onHour(progress);
    hourStart = hourEnd;
  }
  return progress;
}
