import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The deploy demo's week of baseline error logs for the checkout-service: generated, and labelled
 * so on every record (`steward.generated: true`), since the demo has no week of production behind
 * it. The background is shaped like a real service's: a dozen-odd error signatures at 0.5 to 40
 * an hour, following the day's traffic, some steady and some bursty (an hour's rate drawn from a
 * gamma around the mean), with stack traces through the demo service's real files and lines. They
 * reach Steward the way the live service's logs do: OTLP/JSON exports to POST /v1/logs.
 */

export const GENERATED_ATTRIBUTE = 'steward.generated';
const HOUR_MS = 3_600_000;
const ROOT = '/srv/checkout-service';

interface BackgroundSignature {
  /** Mean errors an hour over the day. */
  perHour: number;
  /** Squared coefficient of variation of an hour's rate around the mean: 0 steady, 1 and more bursty. */
  burstiness: number;
  /** The error as the service logs it; `pick` varies the values a real stream varies. */
  error: (pick: <T>(values: readonly T[]) => T) => { type: string; message: string; frames: string[] };
}

const checkoutFrames = [`at handleCheckout (${ROOT}/src/server.js:8:46)`, `at IncomingMessage.<anonymous> (${ROOT}/src/server.js:22:23)`, 'at IncomingMessage.emit (node:events:517:28)', 'at endReadableNT (node:internal/streams/readable:1400:12)'];
const pricingFrames = [`at priceOrder (${ROOT}/src/pricing.js:19:20)`, `at handleCheckout (${ROOT}/src/server.js:9:10)`, `at IncomingMessage.<anonymous> (${ROOT}/src/server.js:22:23)`, 'at IncomingMessage.emit (node:events:517:28)'];
const socketFrames = (call: string) => [call, `at Server.<anonymous> (${ROOT}/src/server.js:13:10)`, 'at Server.emit (node:events:517:28)', 'at parserOnIncoming (node:_http_server:1107:12)'];

/** The background: the errors checkout-service logged in the week before the deploy. */
export const BACKGROUND_SIGNATURES: readonly BackgroundSignature[] = [
  // The coupon demo's bug: an old mobile client still sends orders without a coupon code now and then.
  { perHour: 1.5, burstiness: 0.2, error: () => ({ type: 'TypeError', message: "Cannot read properties of undefined (reading 'percent')", frames: [`at discountCents (${ROOT}/src/pricing.js:10:37)`, ...pricingFrames] }) },
  { perHour: 25, burstiness: 1.2, error: (pick) => ({ type: 'RangeError', message: `unknown coupon ${pick(['SAVE20', 'BLACKFRIDAY30', 'WELCOME15', 'XMAS2026', 'SPRING24'])}`, frames: [`at findCoupon (${ROOT}/src/coupons.js:11:23)`, ...checkoutFrames] }) },
  { perHour: 6, burstiness: 0.3, error: () => ({ type: 'SyntaxError', message: 'Unexpected end of JSON input', frames: ['at JSON.parse (<anonymous>)', `at IncomingMessage.<anonymous> (${ROOT}/src/server.js:22:43)`, 'at IncomingMessage.emit (node:events:517:28)'] }) },
  { perHour: 3, burstiness: 0.2, error: () => ({ type: 'TypeError', message: "Cannot read properties of undefined (reading 'reduce')", frames: [`at subtotalCents (${ROOT}/src/pricing.js:5:16)`, `at priceOrder (${ROOT}/src/pricing.js:18:20)`, `at handleCheckout (${ROOT}/src/server.js:9:10)`] }) },
  { perHour: 2.5, burstiness: 0.3, error: () => ({ type: 'TypeError', message: 'items.reduce is not a function', frames: [`at subtotalCents (${ROOT}/src/pricing.js:5:16)`, `at priceOrder (${ROOT}/src/pricing.js:18:20)`, `at handleCheckout (${ROOT}/src/server.js:9:10)`] }) },
  { perHour: 8, burstiness: 0.4, error: () => ({ type: 'Error', message: 'read ECONNRESET', frames: socketFrames('at TCP.onStreamRead (node:internal/stream_base_commons:217:20)') }) },
  { perHour: 4, burstiness: 0.5, error: () => ({ type: 'Error', message: 'write EPIPE', frames: socketFrames('at afterWriteDispatched (node:internal/stream_base_commons:160:15)') }) },
  { perHour: 3, burstiness: 2.5, error: (pick) => ({ type: 'Error', message: `connect ECONNREFUSED 10.0.3.${pick([17, 18, 21])}:6379`, frames: ['at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)'] }) },
  { perHour: 12, burstiness: 1.5, error: (pick) => ({ type: 'Error', message: `inventory-service timed out after ${pick([3000, 3000, 5000])} ms (GET /stock/${pick(['MUG', 'TEE', 'SOCKS', 'CAP'])})`, frames: ['at Timeout._onTimeout (node:internal/deps/undici/undici:6076:19)', 'at listOnTimeout (node:internal/timers:573:17)'] }) },
  { perHour: 5, burstiness: 2, error: () => ({ type: 'Error', message: 'getaddrinfo ENOTFOUND payments.internal.example.com', frames: ['at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:118:26)'] }) },
  { perHour: 40, burstiness: 0.15, error: () => ({ type: 'AbortError', message: 'The operation was aborted', frames: ['at abortSignal (node:internal/abort_controller:308:10)', 'at AbortController.abort (node:internal/abort_controller:338:5)', `at Server.<anonymous> (${ROOT}/src/server.js:13:10)`] }) },
  { perHour: 2, burstiness: 1, error: () => ({ type: 'Error', message: 'Client network socket disconnected before secure TLS connection was established', frames: ['at connResetException (node:internal/errors:720:14)', 'at TLSSocket.onConnectEnd (node:_tls_wrap:1655:19)'] }) },
  { perHour: 0.5, burstiness: 4, error: () => ({ type: 'Error', message: `EMFILE: too many open files, open '${ROOT}/src/coupons.js'`, frames: ['at Object.openSync (node:fs:581:18)', 'at Module._extensions..js (node:internal/modules/cjs/loader:1301:18)'] }) },
  { perHour: 0.7, burstiness: 0.5, error: () => ({ type: 'PayloadTooLargeError', message: 'request entity too large', frames: [`at IncomingMessage.<anonymous> (${ROOT}/src/server.js:19:44)`, 'at IncomingMessage.emit (node:events:517:28)'] }) },
];

export interface GeneratedErrorLog {
  timestampMs: number;
  type: string;
  message: string;
  stackTrace: string;
}

/** mulberry32: a small seeded generator, so every run of the demo seeds the same week. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k += 1;
  return k;
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 by the boost of Gamma(shape + 1). */
function gamma(shape: number, random: () => number): number {
  if (shape < 1) return gamma(shape + 1, random) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(random);
    const v = Math.pow(1 + c * x, 3);
    if (v > 0 && Math.log(random()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Checkout traffic over the day, UTC: a trough before dawn, a peak in the evening; averages 1. */
function dailyFactor(hourMs: number): number {
  const hour = new Date(hourMs).getUTCHours();
  return 1 + 0.6 * Math.sin(((hour - 12) / 24) * 2 * Math.PI);
}

/** The background error logs in [fromMs, toMs), oldest first: the same ones for the same seed and window. */
export function generateBaselineLogs(fromMs: number, toMs: number, seed = 42): GeneratedErrorLog[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const logs: GeneratedErrorLog[] = [];
  for (let hour = Math.floor(fromMs / HOUR_MS) * HOUR_MS; hour < toMs; hour += HOUR_MS) {
    for (const signature of BACKGROUND_SIGNATURES) {
      const burst = signature.burstiness > 0 ? gamma(1 / signature.burstiness, random) * signature.burstiness : 1;
      const count = poisson(signature.perHour * dailyFactor(hour) * burst, random);
      for (let i = 0; i < count; i += 1) {
        const at = hour + Math.floor(random() * HOUR_MS);
        if (at < fromMs || at >= toMs) continue;
        const { type, message, frames } = signature.error(pick);
        logs.push({ timestampMs: at, type, message, stackTrace: [`${type}: ${message}`, ...frames.map((f) => `    ${f}`)].join('\n') });
      }
    }
  }
  return logs.sort((a, b) => a.timestampMs - b.timestampMs);
}

const text = (value: string) => ({ stringValue: value });

/** OTLP/JSON ExportLogsServiceRequests of the logs, `batchSize` records each, every record labelled as generated. */
export function otlpExports(service: string, logs: readonly GeneratedErrorLog[], batchSize = 1_000): unknown[] {
  const exports: unknown[] = [];
  for (let start = 0; start < logs.length; start += batchSize) {
    const records = logs.slice(start, start + batchSize).map((log) => ({
      timeUnixNano: `${BigInt(log.timestampMs) * 1_000_000n}`,
      severityNumber: 17,
      severityText: 'ERROR',
      body: text(`${log.type}: ${log.message}`),
      attributes: [
        { key: GENERATED_ATTRIBUTE, value: { boolValue: true } },
        { key: 'exception.type', value: text(log.type) },
        { key: 'exception.message', value: text(log.message) },
        { key: 'exception.stacktrace', value: text(log.stackTrace) },
      ],
    }));
    exports.push({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: text(service) }, { key: 'deployment.environment.name', value: text('production') }] },
          scopeLogs: [{ scope: { name: 'steward-demo-baseline' }, logRecords: records }],
        },
      ],
    });
  }
  return exports;
}

export interface SeededBaseline {
  logs: number;
  from: string;
  to: string;
  /** Where the next run starts: the week is seeded once, then only the time since. */
  alreadySeeded: boolean;
}

/**
 * Posts the baseline up to `now` to Steward's OTLP endpoint: a week on the first run, and on later
 * runs only the time since the last one (kept in a marker file under the data folder), so a second
 * run does not double the week it already sent.
 */
export async function seedBaselineLogs(options: { apiUrl: string; token: string; service: string; dataDir: string; now: Date; days?: number }): Promise<SeededBaseline> {
  const marker = path.join(options.dataDir, 'demo-baseline-seeded-until');
  const weekAgo = options.now.getTime() - (options.days ?? 7) * 24 * HOUR_MS - HOUR_MS;
  const seededUntil = fs.existsSync(marker) ? Date.parse(fs.readFileSync(marker, 'utf8').trim()) : NaN;
  const from = Number.isNaN(seededUntil) ? weekAgo : Math.max(weekAgo, seededUntil);
  const to = options.now.getTime();
  // A seed per window, so that a later run's hours are not a copy of the first run's.
  const logs = generateBaselineLogs(from, to, Math.floor(from / HOUR_MS));
  for (const body of otlpExports(options.service, logs)) {
    const response = await fetch(`${options.apiUrl}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`POST /v1/logs answered ${response.status} to the demo's baseline: ${await response.text()}`);
  }
  fs.writeFileSync(marker, new Date(to).toISOString());
  return { logs: logs.length, from: new Date(from).toISOString(), to: new Date(to).toISOString(), alreadySeeded: !Number.isNaN(seededUntil) };
}
