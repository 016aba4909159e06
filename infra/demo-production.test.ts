/**
 * The deploy demo's world apart from Steward: the week of generated baseline logs, the production
 * checkout-service sending its errors through the OpenTelemetry SDK, and the traffic loop. The OTLP
 * endpoint here is a capture, so that what the SDK really sends is what is checked.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogTemplateMiner } from '../domain/log-template-miner';
import { BACKGROUND_SIGNATURES, generateBaselineLogs, GENERATED_ATTRIBUTE, otlpExports, seededRandom } from './demo-baseline-logs';
import { commitRegression, ensureDemoRepository } from './demo-fixtures';
import { startProductionService, type ProductionService } from './demo-production-service';
import { demoOrder, startTraffic } from './demo-traffic';

const HOUR_MS = 3_600_000;
const WEEK_START = Date.parse('2026-11-24T00:00:00Z');
const WEEK_END = WEEK_START + 7 * 24 * HOUR_MS;

type OtlpAttribute = { key: string; value: { stringValue?: string; boolValue?: boolean } };
type OtlpRecord = { severityNumber: number; body: { stringValue: string }; attributes: OtlpAttribute[] };
type OtlpExport = { resourceLogs: { resource: { attributes: OtlpAttribute[] }; scopeLogs: { logRecords: OtlpRecord[] }[] }[] };
const attribute = (record: OtlpRecord, key: string) => record.attributes.find((a) => a.key === key)?.value;

describe('the generated baseline', () => {
  const logs = generateBaselineLogs(WEEK_START, WEEK_END);
  const miner = new LogTemplateMiner();
  const perSignature = new Map<string, number[]>();
  for (const log of logs) {
    const id = miner.learn(`${log.type}: ${log.message}`).id;
    const hours = perSignature.get(id) ?? new Array<number>(7 * 24).fill(0);
    hours[Math.floor((log.timestampMs - WEEK_START) / HOUR_MS)]! += 1;
    perSignature.set(id, hours);
  }

  it('is the same week for the same seed, and another for another', () => {
    expect(generateBaselineLogs(WEEK_START, WEEK_END)).toEqual(logs);
    expect(generateBaselineLogs(WEEK_START, WEEK_END, 43)).not.toEqual(logs);
    expect(logs.every((log, i) => log.timestampMs >= WEEK_START && log.timestampMs < WEEK_END && (i === 0 || log.timestampMs >= logs[i - 1]!.timestampMs))).toBe(true);
  });

  it('mines into one signature per background error, at 0.3 to 60 an hour, some of them bursty', () => {
    expect(perSignature.size).toBe(BACKGROUND_SIGNATURES.length);
    const rates = [...perSignature.values()].map((hours) => hours.reduce((a, b) => a + b, 0) / hours.length);
    expect(Math.min(...rates)).toBeGreaterThan(0.3);
    expect(Math.max(...rates)).toBeLessThan(60);
    // Overdispersion: the hour-to-hour variance against a Poisson stream's (its mean).
    const dispersion = [...perSignature.values()].map((hours) => {
      const mean = hours.reduce((a, b) => a + b, 0) / hours.length;
      return hours.reduce((a, b) => a + (b - mean) ** 2, 0) / hours.length / mean;
    });
    expect(dispersion.filter((d) => d > 3).length).toBeGreaterThanOrEqual(3);
  });

  it("has stacks through the demo service's real files, and keeps the regression's error a signature of its own", () => {
    expect(logs.some((log) => /src\/pricing\.js:10:\d+/.test(log.stackTrace))).toBe(true);
    expect(logs.some((log) => /src\/coupons\.js:11:\d+/.test(log.stackTrace))).toBe(true);
    const regression = miner.learn("TypeError: Cannot read properties of undefined (reading 'unitPriceCents')");
    expect(perSignature.has(regression.id)).toBe(false);
    expect(regression.template).toContain('unitPriceCents');
  });

  it('goes out as OTLP/JSON exports, every record an error labelled as generated', () => {
    const exports = otlpExports('checkout-service', logs, 1_000) as OtlpExport[];
    expect(exports).toHaveLength(Math.ceil(logs.length / 1_000));
    const records = exports.flatMap((e) => e.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
    expect(records).toHaveLength(logs.length);
    expect(records.every((r) => r.severityNumber === 17 && attribute(r, GENERATED_ATTRIBUTE)?.boolValue === true)).toBe(true);
    expect(attribute(records[0]!, 'exception.stacktrace')?.stringValue).toBe(logs[0]!.stackTrace);
    expect(exports[0]!.resourceLogs[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'checkout-service' } });
  });
});

describe('the production checkout-service and its traffic', () => {
  let root: string;
  let capture: http.Server;
  let received: { authorization: string | undefined; body: OtlpExport }[];
  let service: ProductionService | null = null;
  let options: Parameters<typeof startProductionService>[0];
  let deploy: { revision: string; previousRevision: string };

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-demo-production-'));
    const repository = path.join(root, 'repos', 'checkout-service');
    ensureDemoRepository(repository);
    deploy = commitRegression(repository);
    received = [];
    capture = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        received.push({ authorization: req.headers.authorization, body: JSON.parse(raw) as OtlpExport });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    const port = (capture.address() as AddressInfo).port;
    options = { repositoryPath: repository, checkoutPath: path.join(root, 'production'), service: 'checkout-service', otlpLogsUrl: `http://127.0.0.1:${port}/v1/logs`, token: 'demo-token' };
  });

  afterAll(async () => {
    await service?.stop();
    capture.closeAllConnections();
    await new Promise((resolve) => capture.close(resolve));
    fs.rmSync(root, { recursive: true, force: true });
  });

  const errorRecords = () => received.flatMap((r) => r.body.resourceLogs.flatMap((l) => l.scopeLogs.flatMap((s) => s.logRecords)));

  it('orders always carry a known coupon code, and one in twenty is a bulk order', () => {
    const random = seededRandom(7);
    const orders = Array.from({ length: 200 }, (_, n) => demoOrder(n, random));
    expect(orders.every((o) => /^(WELCOME10|SPRING25)$/i.test(o.couponCode))).toBe(true);
    expect(orders.filter((o) => o.items.some((i) => i.quantity >= 10))).toHaveLength(10);
  });

  it('serves every order at the deployed revision without an error log', async () => {
    service = await startProductionService(options, deploy.previousRevision);
    const traffic = startTraffic({ url: service.url, perSecond: 50 });
    await new Promise((r) => setTimeout(r, 1_500));
    const stats = await traffic.stop();
    await service.stop();
    service = null;
    expect(stats.sent).toBeGreaterThan(40);
    expect(stats).toMatchObject({ failed: 0, unanswered: 0, ok: stats.sent });
    expect(errorRecords()).toEqual([]);
  });

  it('at the regressed revision, sends each failed checkout as an OTLP error record with its stack, flushed on SIGTERM', async () => {
    service = await startProductionService(options, deploy.revision);
    const traffic = startTraffic({ url: service.url, perSecond: 50 });
    await new Promise((r) => setTimeout(r, 2_000));
    const stats = await traffic.stop();
    await service.stop();
    service = null;
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.failed).toBeLessThan(stats.sent / 10);
    const records = errorRecords();
    expect(records).toHaveLength(stats.failed);
    expect(received.every((r) => r.authorization === 'Bearer demo-token')).toBe(true);
    expect(received[0]!.body.resourceLogs[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'checkout-service' } });
    const record = records[0]!;
    expect(record.severityNumber).toBe(17);
    expect(record.body.stringValue).toBe("TypeError: Cannot read properties of undefined (reading 'unitPriceCents')");
    expect(attribute(record, 'exception.stacktrace')?.stringValue).toMatch(/at unitPriceCents \(.*production\/src\/pricing\.js:12:\d+\)/);
  });
});
