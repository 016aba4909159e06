import { createHmac } from 'node:crypto';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import type { LogRecord, LogRecordsPort } from '../ports/log-records.port';
import { CountingWorkflowClient } from '../test/fakes/counting-workflow-client';
import { LogRetention } from './otlp/log-retention';
import { createApiServer, type ApiServerDeps, type EdgeApp } from './server';
import { PrometheusMetrics } from '../observability/prometheus-metrics';

/**
 * Property-based fuzz of every endpoint of the HTTP edge: each generated request belongs to a
 * class of bad input (no or wrong credentials, stale Slack timestamps, malformed JSON, wrong types,
 * huge strings, bodies over the limit, wrong content types…) whose answer is known in advance, and
 * must get exactly that status, start nothing (a counting fake of the Temporal client sees every
 * call) and store nothing. The bulk goes through Fastify's inject; slow clients are real sockets
 * trickling bytes at a listening server. The heap is measured after a forced gc before and after
 * the bulk, so a leak per request shows as growth past the stated tolerance.
 */

// Fastify's inject (light-my-request) requires cookie@2, which is ESM only and which Jest's CommonJS
// runtime on Node 20 cannot load. It uses it only to write the cookies a request is given, and these
// requests are given none: the stand-in says so if that changes.
jest.mock('../node_modules/light-my-request/node_modules/cookie/dist/index.js', () => ({
  stringifySetCookie: () => {
    throw new Error('edge-fuzz: cookie@2 is not loaded under Jest; give injected requests no cookies');
  },
}));

const TOKEN = 'fuzz-webhook-token-0123456789';
const SLACK_SECRET = 'fuzz-slack-signing-secret';
const GITHUB_SECRET = 'fuzz-github-webhook-secret';
const MAX_BODY = 64 * 1024;
const DEPLOY_MAX_BODY = 96 * 1024;
const OTLP_MAX_BODY = 32 * 1024;
/** Slack's window is judged by this clock, so that "stale" and "fresh" are exact. */
const NOW_MS = Date.UTC(2026, 10, 21, 10, 0, 0);
const NOW_S = NOW_MS / 1000;
/** A stalled client is dropped after this (the production default is 30 s). */
const REQUEST_TIMEOUT_MS = 1_500;
/** Requests the bulk must send in all, across every class. */
const MIN_REQUESTS = 10_000;
/** Growth of heapUsed (after gc) from before the bulk to after it that still counts as "back to baseline". */
const HEAP_TOLERANCE_BYTES = 8 * 1024 * 1024;

/** The edge's log store, counting what reaches it: a bad export must write nothing. */
class CountingLogRecords implements LogRecordsPort {
  appended = 0;
  async append(records: LogRecord[]): Promise<void> {
    this.appended += records.length;
  }
  async deleteOlderThan(): Promise<number> {
    return 0;
  }
}

const temporal = new CountingWorkflowClient();
const logStore = new CountingLogRecords();
const config = loadConfig({});
const edgeLog: string[] = [];
const fuzzMetrics = new PrometheusMetrics({ defaultMetrics: false });

function buildApp(): EdgeApp {
  const deps: ApiServerDeps = {
    client: temporal.client,
    taskQueue: 'fuzz',
    policy: incidentPolicyFromConfig(config),
    webhookToken: TOKEN,
    maxBodyBytes: MAX_BODY,
    slackSigningSecret: SLACK_SECRET,
    githubWebhookSecret: GITHUB_SECRET,
    deploys: { policy: config.deployWatch, services: {}, maxBodyBytes: DEPLOY_MAX_BODY },
    monitorGeneration: { policy: config.monitorGeneration, services: {} },
    health: { postgres: async () => undefined },
    otlpLogs: { store: logStore, maxBodyBytes: OTLP_MAX_BODY, retention: new LogRetention(logStore, { retentionMs: 86_400_000, log: () => undefined }) },
    logger: (line) => edgeLog.push(line),
    now: () => NOW_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    // Its own registry: what the fuzz counts stays in this file, and its label values stay bounded
    // however many requests are sent (the heap check below would see a label per request).
    metrics: { port: fuzzMetrics, exposition: async () => ({ contentType: fuzzMetrics.contentType, body: await fuzzMetrics.metrics() }) },
  };
  return createApiServer(deps);
}

// ---- generators shared by the routes ----

/** Header-safe text (visible ASCII), as a client could put in a header. */
const headerText = (min = 1, max = 60) => fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=!#$%&*'), minLength: min, maxLength: max });

/**
 * Every way of not presenting the bearer token: absent, another token, another scheme, the token
 * mangled. (Not a trailing space: HTTP trims header values, so `Bearer <token> ` is the token.)
 */
const wrongAuthorization: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  headerText().filter((token) => token !== TOKEN).map((token) => `Bearer ${token}`),
  fc.constantFrom(`Basic ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN}`, TOKEN, 'Bearer', 'Bearer ', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Token ${TOKEN}`),
);

/** Text that JSON.parse refuses: random text, and valid JSON cut short or with junk after it. */
function malformedJson(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      valid.chain((text) => fc.integer({ min: 1, max: Math.max(1, text.length - 1) }).map((cut) => text.slice(0, cut))),
      valid.chain((text) => fc.constantFrom('}', ',', ']', 'x', '{', '"').map((junk) => `${text}${junk}`)),
      fc.constantFrom('{', '[', '{"a":}', "{'a': 1}", 'NaN', 'undefined', '{"a":1,}', '\u0000', '\uFEFF{}x'),
    )
    .filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    });
}

/** JSON values that are not objects: every endpoint taking JSON wants an object at the top. */
const notAnObject = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.string({ maxLength: 40 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }));
/** Values of the wrong type for a string field (or a string-or-number one). */
const notAString = fc.oneof(fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), fc.dictionary(headerText(1, 8), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }));
/** A string of `min`..`max` characters; multi-byte and escaped units unless `ascii` (for a field whose limit is near the body's). */
const hugeString = (min: number, max: number, ascii = false) =>
  fc.integer({ min, max }).chain((length) => fc.constantFrom(...(ascii ? ['a', ' '] : ['a', 'é', '€', ' ', '\\"'])).map((unit) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)));
/** A JSON body just over `limit` bytes. */
const overLimitJson = (limit: number) => fc.integer({ min: 1, max: 8_192 }).map((extra) => JSON.stringify({ message: 'x'.repeat(limit + extra) }));
const overLimitBytes = (limit: number) => fc.integer({ min: 1, max: 8_192 }).map((extra) => Buffer.alloc(limit + extra, 0x61));

// ---- Datadog ----

const datadogPayload = fc.record({
  monitor_id: fc.integer({ min: 1, max: 2 ** 40 }).map(String),
  alert_cycle_key: headerText(1, 40),
  transition: fc.constantFrom('Triggered', 'Recovered', 'Re-Triggered'),
  priority: fc.constantFrom('P1', 'P2', 'P3'),
  title: headerText(1, 80),
  message: fc.string({ maxLength: 300 }),
  tags: fc.constant('service:checkout-service,env:prod'),
  date: fc.integer({ min: 1e12, max: 2e12 }).map(String),
  link: fc.constant('https://app.datadoghq.com/monitors/1'),
});
const DATADOG_REQUIRED = ['monitor_id', 'alert_cycle_key', 'transition', 'title', 'date'] as const;
/** A payload with one required field removed, of the wrong type, or out of range. */
const badDatadogPayload = fc.oneof(
  fc.tuple(datadogPayload, fc.constantFrom(...DATADOG_REQUIRED)).map(([payload, field]) => {
    const rest: Record<string, unknown> = { ...payload };
    delete rest[field];
    return rest;
  }),
  fc.tuple(datadogPayload, fc.constantFrom(...DATADOG_REQUIRED), notAString).map(([payload, field, value]) => ({ ...payload, [field]: value })),
  fc.tuple(datadogPayload, headerText(1, 20).map((id) => `x${id}`)).map(([payload, id]) => ({ ...payload, monitor_id: id })),
  fc.tuple(datadogPayload, fc.constantFrom('alert_cycle_key', 'transition', 'title')).map(([payload, field]) => ({ ...payload, [field]: '' })),
);
const hugeDatadogPayload = fc.oneof(
  fc.tuple(datadogPayload, hugeString(2_001, 30_000)).map(([payload, title]) => ({ ...payload, title })),
  fc.tuple(datadogPayload, hugeString(201, 20_000)).map(([payload, key]) => ({ ...payload, alert_cycle_key: key })),
  fc.tuple(datadogPayload, hugeString(60_001, 62_000, true)).map(([payload, message]) => ({ ...payload, message })),
  fc.tuple(datadogPayload, hugeString(2_001, 20_000)).map(([payload, link]) => ({ ...payload, link })),
);

// ---- deploys ----

const deployBody = fc.record({
  service: headerText(1, 30),
  revision: fc.stringMatching(/^[0-9a-f]{40}$/),
  environment: fc.constantFrom('production', 'staging'),
  deployedAt: fc.constant('2026-11-21T10:02:44Z'),
});
const badDeployBody = fc.oneof(
  fc.tuple(deployBody, fc.constantFrom('service', 'revision')).map(([body, field]) => {
    const rest: Record<string, unknown> = { ...body };
    delete rest[field];
    return rest;
  }),
  fc.tuple(deployBody, fc.constantFrom('service', 'revision', 'environment', 'deployedAt'), fc.oneof(notAString, fc.integer())).map(([body, field, value]) => ({ ...body, [field]: value })),
  // Unknown keys are refused (the schema is strict).
  fc.tuple(deployBody, headerText(1, 12).filter((key) => !['service', 'revision', 'previousRevision', 'environment', 'deployedAt', 'build'].includes(key)), fc.jsonValue({ maxDepth: 1 })).map(([body, key, value]) => ({ ...body, [key]: value })),
  fc.tuple(deployBody, fc.constantFrom('yesterday', '2026-11-21', '2026-11-21T10:02:44', '21/11/2026 10:02', '')).map(([body, deployedAt]) => ({ ...body, deployedAt })),
  fc.tuple(deployBody, fc.oneof(fc.constant({ status: 'broken' }), fc.constant({ status: 'failure', log: 5 }), notAString)).map(([body, build]) => ({ ...body, build })),
  fc.tuple(deployBody, fc.constantFrom('', '   ')).map(([body, service]) => ({ ...body, service })),
);
const hugeDeployBody = fc.oneof(
  fc.tuple(deployBody, hugeString(201, 40_000)).map(([body, service]) => ({ ...body, service: `s${service}s` })),
  fc.tuple(deployBody, hugeString(101, 40_000)).map(([body, environment]) => ({ ...body, environment: `e${environment}e` })),
);

// ---- GitHub ----

const githubSignature = (body: string | Buffer, secret = GITHUB_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const GITHUB_EVENTS_READ = ['pull_request', 'deployment_status', 'workflow_run'] as const;
const githubBody = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)), fc.string({ minLength: 1, maxLength: 200 })).filter((text) => text.length > 0);
/** Any JSON that lacks `repository`, which each of the three events read requires. */
const notAGitHubEvent = fc
  .jsonValue({ maxDepth: 3 })
  .filter((value) => !(typeof value === 'object' && value !== null && !Array.isArray(value) && 'repository' in value))
  .map((value) => JSON.stringify(value));
const wrongGitHubSignature = (body: string) =>
  fc.oneof(
    fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256=${hex}`),
    headerText(1, 30).filter((secret) => secret !== GITHUB_SECRET).map((secret) => githubSignature(body, secret)),
    fc.constant(githubSignature(`${body} `)),
    fc.constant(`sha1=${createHmac('sha1', GITHUB_SECRET).update(body).digest('hex')}`),
    fc.constant(githubSignature(body).toUpperCase()),
    fc.constant(githubSignature(body).slice(0, -1)),
    headerText(1, 80),
  );

// ---- Slack ----

const slackSignature = (timestamp: string, body: string, secret = SLACK_SECRET) => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
const slackForm = (payload: string) => `payload=${encodeURIComponent(payload)}`;
const slackBody = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map((value) => slackForm(JSON.stringify(value))),
  fc.string({ maxLength: 200 }),
  fc.constant(slackForm(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'steward_approve', value: 'incident-1-c' }] }))),
);
/** More than five minutes from now, either way. */
const staleTimestamp = fc.oneof(fc.integer({ min: 301, max: 10 ** 9 }), fc.integer({ min: 301, max: 10 ** 6 }).map((s) => -s)).map((offset) => String(NOW_S - offset));
const freshTimestamp = fc.integer({ min: -300, max: 300 }).map((offset) => String(NOW_S + offset));

// ---- OTLP ----

const otlpBody = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)), fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)));
const NOT_OTLP_TYPES = ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/protobuf', 'application/jsonl', 'multipart/form-data; boundary=x', 'application/octet-stream', 'json'];
/** Exports that are JSON but not OTLP's: a field of the wrong type somewhere on the way to a record. */
const notAnOtlpExport = fc.oneof(
  notAnObject,
  fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.dictionary(headerText(1, 8), fc.integer(), { minKeys: 1, maxKeys: 3 })).map((resourceLogs) => ({ resourceLogs })),
  fc.oneof(fc.string({ minLength: 1 }), fc.boolean(), fc.array(fc.integer(), { minLength: 1, maxLength: 3 })).map((severityNumber) => ({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] }, scopeLogs: [{ logRecords: [{ severityNumber, body: { stringValue: 'x' } }] }] }],
  })),
  fc.stringMatching(/^[0-9a-f]{1,31}$/).map((traceId) => ({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId, body: { stringValue: 'x' } }] }] }] })),
);

// ---- the classes ----

interface FuzzRequest {
  method: InjectOptions['method'];
  url: string;
  headers?: Record<string, string | undefined>;
  payload?: string | Buffer;
}

/** How fast-check shows a failing request: its start, not a 60 kB body. */
function shown(request: FuzzRequest): FuzzRequest {
  return Object.assign(request, {
    [fc.toStringMethod]: () => JSON.stringify({ ...request, payload: `${String(request.payload ?? '').slice(0, 200)}… (${request.payload?.length ?? 0} bytes)` }),
  });
}

interface FuzzClass {
  /** The route it aims at, as "METHOD /path", or the path alone for classes over a path's other methods. */
  target: string;
  name: string;
  status: number;
  runs: number;
  request: fc.Arbitrary<FuzzRequest>;
}

const json = (value: unknown) => JSON.stringify(value);
const withoutUndefined = (headers: Record<string, string | undefined>) => Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as Record<string, string>;

function bearerRouteClasses(target: string, url: string, valid: fc.Arbitrary<string>, limit: number, bad: fc.Arbitrary<unknown>, huge: fc.Arbitrary<unknown>): FuzzClass[] {
  // An explicit `authorization` argument, undefined included (no header), is what is sent.
  const post = (payload: string | Buffer, ...authorization: [string | undefined] | []): FuzzRequest => ({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: authorization.length === 0 ? `Bearer ${TOKEN}` : authorization[0] },
    payload,
  });
  return [
    {
      target,
      name: 'no or wrong bearer token (even with a valid body)',
      status: 401,
      runs: 700,
      request: fc.tuple(wrongAuthorization, fc.oneof({ weight: 4, arbitrary: valid }, { weight: 4, arbitrary: fc.string({ maxLength: 100 }) }, { weight: 1, arbitrary: overLimitJson(limit) })).map(([auth, body]) => post(body, auth)),
    },
    { target, name: 'malformed JSON', status: 400, runs: 500, request: malformedJson(valid).map((body) => post(body)) },
    { target, name: 'JSON that is not an object', status: 400, runs: 200, request: notAnObject.map((value) => post(json(value))) },
    { target, name: 'a field missing, of the wrong type or out of range', status: 400, runs: 500, request: bad.map((value) => post(json(value))) },
    {
      target,
      name: 'huge strings past a field limit',
      status: 400,
      runs: 150,
      // Under the body limit, so that it is the field's own limit that refuses them.
      request: huge.map(json).filter((body) => Buffer.byteLength(body) <= limit).map((body) => post(body)),
    },
    { target, name: 'body over the limit', status: 413, runs: 120, request: fc.oneof(overLimitJson(limit), overLimitBytes(limit)).map((body) => post(body)) },
  ];
}

const githubPost = (payload: string | Buffer, headers: Record<string, string | undefined>): FuzzRequest => ({
  method: 'POST',
  url: '/webhooks/github',
  headers: { 'content-type': 'application/json', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', ...headers },
  payload,
});
const githubEvent = fc.oneof(fc.constantFrom(...GITHUB_EVENTS_READ, 'ping', 'push', 'issues'), fc.constant(undefined));

const slackPost = (payload: string | Buffer, headers: Record<string, string | undefined>): FuzzRequest => ({
  method: 'POST',
  url: '/slack/interactions',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  payload,
});
const signedSlack = (body: string) => slackPost(body, { 'x-slack-request-timestamp': String(NOW_S), 'x-slack-signature': slackSignature(String(NOW_S), body) });

const otlpPost = (payload: string | Buffer, headers: Record<string, string | undefined> = {}): FuzzRequest => ({
  method: 'POST',
  url: '/v1/logs',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
  payload,
});

const FUZZ_CLASSES: FuzzClass[] = [
  ...bearerRouteClasses('POST /webhooks/datadog', '/webhooks/datadog', datadogPayload.map(json), MAX_BODY, badDatadogPayload, hugeDatadogPayload),
  ...bearerRouteClasses('POST /webhooks/deploy', '/webhooks/deploy', deployBody.map(json), DEPLOY_MAX_BODY, badDeployBody, hugeDeployBody),

  { target: 'POST /webhooks/github', name: 'no X-Hub-Signature-256', status: 401, runs: 300, request: fc.tuple(githubBody, githubEvent).map(([body, event]) => githubPost(body, { 'x-github-event': event })) },
  {
    target: 'POST /webhooks/github',
    name: 'wrong signature',
    status: 401,
    runs: 600,
    request: fc.tuple(githubBody, githubEvent).chain(([body, event]) => wrongGitHubSignature(body).map((signature) => githubPost(body, { 'x-github-event': event, 'x-hub-signature-256': signature }))),
  },
  { target: 'POST /webhooks/github', name: 'signed, empty body', status: 400, runs: 20, request: githubEvent.map((event) => githubPost('', { 'x-github-event': event, 'x-hub-signature-256': githubSignature('') })) },
  {
    target: 'POST /webhooks/github',
    name: 'signed, malformed JSON',
    status: 400,
    runs: 300,
    request: fc.tuple(malformedJson(fc.constant('{"action":"closed","repository":{"full_name":"a/b"}}')).filter((text) => text.length > 0), fc.constantFrom(...GITHUB_EVENTS_READ)).map(([body, event]) => githubPost(body, { 'x-github-event': event, 'x-hub-signature-256': githubSignature(body) })),
  },
  {
    target: 'POST /webhooks/github',
    name: 'signed, JSON that is not the event it says',
    status: 400,
    runs: 400,
    request: fc.tuple(notAGitHubEvent, fc.constantFrom(...GITHUB_EVENTS_READ)).map(([body, event]) => githubPost(body, { 'x-github-event': event, 'x-hub-signature-256': githubSignature(body) })),
  },
  {
    target: 'POST /webhooks/github',
    name: 'body over the limit (signed or not)',
    status: 413,
    runs: 100,
    request: fc.tuple(overLimitBytes(MAX_BODY), fc.boolean()).map(([body, signed]) => githubPost(body, { 'x-github-event': 'pull_request', 'x-hub-signature-256': signed ? githubSignature(body) : undefined })),
  },

  {
    target: 'POST /slack/interactions',
    name: 'no signature or no timestamp',
    status: 401,
    runs: 300,
    request: fc.tuple(slackBody, fc.constantFrom('signature', 'timestamp', 'both')).map(([body, missing]) =>
      slackPost(body, {
        'x-slack-request-timestamp': missing === 'timestamp' || missing === 'both' ? undefined : String(NOW_S),
        'x-slack-signature': missing === 'signature' || missing === 'both' ? undefined : slackSignature(String(NOW_S), body),
      }),
    ),
  },
  {
    target: 'POST /slack/interactions',
    name: 'stale or future timestamp, correctly signed for it',
    status: 401,
    runs: 500,
    request: fc.tuple(slackBody, staleTimestamp).map(([body, timestamp]) => slackPost(body, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(timestamp, body) })),
  },
  {
    target: 'POST /slack/interactions',
    name: 'timestamp that is not a whole number of seconds',
    status: 401,
    runs: 200,
    request: fc.tuple(slackBody, fc.oneof(headerText(1, 12).filter((t) => !/^-?\d+$/.test(t.trim())), fc.constantFrom(`${NOW_S}.5`, `${NOW_S}e0x`, 'NaN', 'Infinity', ''))).map(([body, timestamp]) =>
      slackPost(body, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(timestamp, body) }),
    ),
  },
  {
    target: 'POST /slack/interactions',
    name: 'fresh timestamp, wrong signature',
    status: 401,
    runs: 600,
    request: fc.tuple(slackBody, freshTimestamp).chain(([body, timestamp]) =>
      fc
        .oneof(
          fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `v0=${hex}`),
          headerText(1, 30).filter((secret) => secret !== SLACK_SECRET).map((secret) => slackSignature(timestamp, body, secret)),
          fc.constant(slackSignature(String(Number(timestamp) + 1), body)),
          fc.constant(slackSignature(timestamp, `${body}&x=1`)),
          fc.constant(slackSignature(timestamp, body).replace('v0=', 'v1=')),
          headerText(1, 80),
        )
        .map((signature) => slackPost(body, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature })),
    ),
  },
  {
    target: 'POST /slack/interactions',
    name: 'signed, no payload field',
    status: 400,
    runs: 150,
    request: fc.dictionary(headerText(1, 10).filter((key) => key !== 'payload'), headerText(0, 20), { maxKeys: 4 }).map((fields) => signedSlack(new URLSearchParams(fields).toString())),
  },
  { target: 'POST /slack/interactions', name: 'signed, payload not JSON', status: 400, runs: 200, request: malformedJson(fc.constant('{"type":"block_actions"}')).map((payload) => signedSlack(slackForm(payload))) },
  {
    target: 'POST /slack/interactions',
    name: 'signed, payload without an interaction type',
    status: 400,
    runs: 200,
    request: fc.oneof(notAnObject, fc.dictionary(headerText(1, 8).filter((key) => key !== 'type'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }), notAString.map((type) => ({ type }))).map((payload) => signedSlack(slackForm(json(payload)))),
  },
  {
    target: 'POST /slack/interactions',
    name: 'signed, a click that is not a Steward button',
    status: 400,
    runs: 200,
    request: fc
      .oneof(
        fc.record({ user: fc.constant({ id: 'U1' }) }),
        fc.record({ user: fc.constant({ id: 'U1' }), actions: fc.array(fc.record({ action_id: headerText(1, 20), value: headerText(1, 20) }), { maxLength: 3 }) }).filter((p) => p.actions.length !== 1 || !p.actions[0]!.action_id.startsWith('steward_')),
        fc.record({ actions: fc.constant([{ action_id: 'steward_approve', value: 'incident-1-c' }]) }),
        fc.record({ user: fc.constant({ id: 'U1' }), actions: fc.constant([{ action_id: 'steward_approve', value: '' }]) }),
      )
      .map((payload) => signedSlack(slackForm(json({ type: 'block_actions', ...payload })))),
  },
  {
    target: 'POST /slack/interactions',
    name: 'body over the limit (signed or not)',
    status: 413,
    runs: 100,
    request: fc.tuple(overLimitBytes(MAX_BODY), fc.boolean()).map(([body, signed]) => (signed ? signedSlack(body.toString()) : slackPost(body, {}))),
  },

  {
    target: 'POST /v1/logs',
    name: 'no or wrong bearer token',
    status: 401,
    runs: 400,
    request: fc.tuple(wrongAuthorization, otlpBody, fc.constantFrom('application/json', 'application/x-protobuf', 'text/plain')).map(([authorization, body, type]) => otlpPost(body, { authorization, 'content-type': type })),
  },
  {
    target: 'POST /v1/logs',
    name: 'a content type that is not OTLP',
    status: 415,
    runs: 250,
    request: fc.tuple(otlpBody, fc.oneof(fc.constantFrom(...NOT_OTLP_TYPES), headerText(1, 20).map((sub) => `text/${sub}`), fc.constant(undefined))).map(([body, type]) => otlpPost(body, { 'content-type': type })),
  },
  {
    target: 'POST /v1/logs',
    name: 'a content encoding other than gzip',
    status: 415,
    runs: 200,
    request: fc.tuple(otlpBody, fc.oneof(fc.constantFrom('br', 'deflate', 'compress', 'zstd', 'gzip, br', 'x-gzip'), headerText(1, 12).filter((e) => !['gzip', 'identity'].includes(e.toLowerCase())))).map(([body, encoding]) =>
      otlpPost(body, { 'content-encoding': encoding }),
    ),
  },
  { target: 'POST /v1/logs', name: 'malformed JSON', status: 400, runs: 250, request: malformedJson(fc.constant('{"resourceLogs":[]}')).map((body) => otlpPost(body)) },
  { target: 'POST /v1/logs', name: 'JSON that is not an OTLP export', status: 400, runs: 300, request: notAnOtlpExport.map((value) => otlpPost(json(value))) },
  {
    target: 'POST /v1/logs',
    name: 'protobuf that does not decode (wire type 7)',
    status: 400,
    runs: 200,
    // 0x0f is field 1 with wire type 7, which protobuf does not define: no decoder can take it.
    request: fc.uint8Array({ maxLength: 100 }).map((tail) => otlpPost(Buffer.concat([Buffer.from([0x0f]), Buffer.from(tail)]), { 'content-type': 'application/x-protobuf' })),
  },
  {
    target: 'POST /v1/logs',
    name: 'says gzip, is not gzip',
    status: 400,
    runs: 150,
    request: fc.tuple(otlpBody.filter((body) => body.length > 0 && !(Buffer.isBuffer(body) && body[0] === 0x1f)), fc.constantFrom('application/json', 'application/x-protobuf')).map(([body, type]) =>
      otlpPost(body, { 'content-type': type, 'content-encoding': 'gzip' }),
    ),
  },
  {
    target: 'POST /v1/logs',
    name: 'body over the limit, as sent or once unzipped',
    status: 413,
    runs: 120,
    request: fc.tuple(overLimitJson(OTLP_MAX_BODY), fc.boolean()).map(([body, zipped]) => (zipped ? otlpPost(zlib.gzipSync(body + 'x'.repeat(OTLP_MAX_BODY * 4)), { 'content-encoding': 'gzip' }) : otlpPost(body))),
  },

  {
    target: 'GET /healthz',
    name: 'any query and headers (reads only)',
    status: 200,
    runs: 200,
    request: fc
      .tuple(fc.dictionary(headerText(1, 10), fc.string({ maxLength: 30 }), { maxKeys: 4 }), fc.dictionary(headerText(1, 10).map((h) => `x-${h}`), headerText(0, 40), { maxKeys: 3 }), fc.constantFrom('GET', 'HEAD'))
      .map(([query, headers, method]) => ({ method: method as 'GET' | 'HEAD', url: `/healthz?${new URLSearchParams(query).toString()}`, headers })),
  },
  ...(['/readyz', '/metrics'] as const).map(
    (path): FuzzClass => ({
      target: `GET ${path}`,
      name: 'any query and headers (reads only)',
      status: 200,
      runs: 150,
      request: fc
        .tuple(fc.dictionary(headerText(1, 10), fc.string({ maxLength: 30 }), { maxKeys: 4 }), fc.dictionary(headerText(1, 10).map((h) => `x-${h}`), headerText(0, 40), { maxKeys: 3 }), fc.constantFrom('GET', 'HEAD'))
        .map(([query, headers, method]) => ({ method: method as 'GET' | 'HEAD', url: `${path}?${new URLSearchParams(query).toString()}`, headers })),
    }),
  ),
];

/** The method each path is fuzzed on; every other method the app answers on it must be 405. */
const PRIMARY: Record<string, string> = Object.fromEntries(FUZZ_CLASSES.map((c) => c.target.split(' ')).map(([method, path]) => [path!, method!]));

/** Every path of the app, with the methods it answers, as Fastify lists them. */
function registeredRoutes(app: EdgeApp): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /(\/\S*) \(([A-Z, ]+)\)/.exec(line);
    if (match) routes.set(match[1]!, match[2]!.split(', '));
  }
  return routes;
}

function otherMethodClasses(routes: Map<string, string[]>): FuzzClass[] {
  return [...routes].map(([path, methods]) => {
    const primary = PRIMARY[path]!;
    // HEAD is GET's, answered as GET is.
    const others = methods.filter((method) => method !== primary && !(primary === 'GET' && method === 'HEAD'));
    return {
      target: path,
      name: `other methods (${others.join(', ')})`,
      status: 405,
      runs: 60,
      request: fc.tuple(fc.constantFrom(...others), fc.option(fc.string({ maxLength: 100 }), { nil: undefined }), fc.option(headerText(), { nil: undefined })).map(([method, payload, token]) => ({
        method: method as InjectOptions['method'],
        url: path,
        headers: { authorization: token === undefined ? undefined : `Bearer ${token}`, 'content-type': 'application/json' },
        payload: method === 'GET' || method === 'HEAD' ? undefined : payload,
      })),
    };
  });
}

const unknownPathClass = (routes: Map<string, string[]>): FuzzClass => ({
  target: '(no route)',
  name: 'a path no route has',
  status: 404,
  runs: 300,
  request: fc
    .tuple(fc.array(headerText(1, 12).map((segment) => encodeURIComponent(segment)), { minLength: 1, maxLength: 4 }), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'))
    .map(([segments, method]) => ({ method: method as InjectOptions['method'], url: `/${segments.join('/')}`, headers: { authorization: `Bearer ${TOKEN}` }, payload: method === 'GET' ? undefined : '{}' }))
    .filter((request) => !routes.has(request.url.split('?')[0]!)),
});

function forcedGcHeapUsed(): number {
  // Jest's workers run without --expose-gc; V8 lets the flag be set at run time, and a new context then has gc().
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe('HTTP edge under fuzzing', () => {
  const app = buildApp();
  let routes: Map<string, string[]>;
  const sent = new Map<string, number>();

  beforeAll(async () => {
    await app.ready();
    routes = registeredRoutes(app);
  });
  afterAll(async () => {
    await app.close();
  });

  async function send(fuzzClass: FuzzClass, request: FuzzRequest): Promise<void> {
    const response = await app.inject({ method: request.method, url: request.url, headers: withoutUndefined(request.headers ?? {}), payload: request.payload });
    const key = `${fuzzClass.target} · ${fuzzClass.name}`;
    sent.set(key, (sent.get(key) ?? 0) + 1);
    if (response.statusCode !== fuzzClass.status) {
      throw new Error(`${key}: expected ${fuzzClass.status}, got ${response.statusCode} ${response.body.slice(0, 300)}\nrequest: ${JSON.stringify({ ...request, payload: String(request.payload ?? '').slice(0, 300) })}`);
    }
  }

  async function runClass(fuzzClass: FuzzClass, runs: number, seed?: number): Promise<void> {
    await fc.assert(
      fc.asyncProperty(fuzzClass.request.map(shown), (request) => send(fuzzClass, request)),
      { numRuns: runs, seed, endOnFailure: true },
    );
  }

  it('fuzzes every route the app registers, and only those', () => {
    const fuzzedPaths = new Set(Object.keys(PRIMARY));
    expect([...routes.keys()].filter((path) => !fuzzedPaths.has(path))).toEqual([]);
    expect([...fuzzedPaths].filter((path) => !routes.has(path))).toEqual([]);
    for (const [path, method] of Object.entries(PRIMARY)) expect(routes.get(path)).toContain(method);
  });

  it('lets a well-formed, authenticated request reach Temporal, so a start would be counted', async () => {
    // The control: without it, an empty count could mean the fake counts nothing.
    const payload = json({ monitor_id: '42', alert_cycle_key: 'c', transition: 'Triggered', title: 't', date: '1' });
    const response = await app.inject({ method: 'POST', url: '/webhooks/datadog', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload });
    expect(response.statusCode).toBe(500);
    expect(temporal.calls).toEqual(['signalWithStartWorkflowExecution']);
    temporal.calls.length = 0;
    edgeLog.length = 0;
  });

  it('answers at least 10,000 bad requests with the status of their class, starts nothing, keeps nothing, and the heap returns to its baseline', async () => {
    const classes = [...FUZZ_CLASSES, ...otherMethodClasses(routes), unknownPathClass(routes)];
    // Warm-up: lazy imports (@octokit/webhooks), compiled schemas and JIT are in the baseline, not counted as growth.
    for (const fuzzClass of classes) await runClass(fuzzClass, 5, 1);
    sent.clear();
    const before = forcedGcHeapUsed();

    const started = performance.now();
    for (const fuzzClass of classes) await runClass(fuzzClass, fuzzClass.runs);
    const seconds = (performance.now() - started) / 1000;

    const after = forcedGcHeapUsed();
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    const byClass = [...sent].map(([key, count]) => `  ${String(count).padStart(5)}  ${key}`).join('\n');
    console.log(
      `edge fuzz: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s) over ${classes.length} classes\n` +
        `heapUsed after gc: before ${mib(before)}, after ${mib(after)}, growth ${mib(after - before)} (tolerance ${mib(HEAP_TOLERANCE_BYTES)})\n${byClass}`,
    );

    expect(total).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(temporal.calls).toEqual([]);
    expect(logStore.appended).toBe(0);
    // No request was an internal error: the edge logs every 500 it answers.
    expect(edgeLog).toEqual([]);
    expect(after - before).toBeLessThan(HEAP_TOLERANCE_BYTES);
  });
});

/**
 * A raw HTTP/1.1 client on a real socket that writes its request a piece at a time, and resolves
 * with the status once a whole answer has arrived (or the server closed the connection).
 */
function trickle(port: number, chunks: (string | Buffer)[], options: { delayMs: number; stallAfter?: number }): Promise<{ status: number | null; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    let index = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      resolve({ status: match ? Number(match[1]) : null, raw });
    };
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      raw += data;
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length: (\d+)/i.exec(raw.slice(0, end));
      if (length && raw.length - end - 4 >= Number(length[1])) settle();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close a connection it refused before the client is done writing.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', settle);
    const writeNext = () => {
      if (socket.destroyed || settled) return;
      // A stalling client writes nothing more and keeps the socket open.
      if (options.stallAfter !== undefined && index >= options.stallAfter) return;
      if (index >= chunks.length) return;
      socket.write(chunks[index++]!);
      timer = setTimeout(writeNext, options.delayMs);
    };
    socket.on('connect', writeNext);
  });
}

/** The request as bytes, cut into pieces of `size`. */
function pieces(request: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < request.length; i += size) out.push(request.slice(i, i + size));
  return out;
}

describe('HTTP edge with slow clients on a real socket', () => {
  const app = buildApp();
  let port: number;

  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    temporal.calls.length = 0;
  });

  it('answers a request trickled a few bytes at a time with a wrong token 401, and keeps serving others meanwhile', async () => {
    const body = json({ monitor_id: '42', alert_cycle_key: 'c', transition: 'Triggered', title: 't', date: '1' });
    const request = `POST /webhooks/datadog HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const slow = trickle(port, pieces(request, 3), { delayMs: 5 });
    // While the slow client is mid-request, another is answered at once.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const answer = await slow;
    expect(answer.status).toBe(401);
    expect(temporal.calls).toEqual([]);
  });

  it('answers a trickled Slack click signed with a stale timestamp 401', async () => {
    const body = slackForm(json({ type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'steward_approve', value: 'incident-1-c' }] }));
    const timestamp = String(NOW_S - 301);
    const request = `POST /slack/interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Slack-Request-Timestamp: ${timestamp}\r\nX-Slack-Signature: ${slackSignature(timestamp, body)}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const answer = await trickle(port, pieces(request, 16), { delayMs: 2 });
    expect(answer.status).toBe(401);
    expect(temporal.calls).toEqual([]);
  });

  it('answers 413 to a chunked body that trickles past the limit, without waiting for its end', async () => {
    const head = `POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: pull_request\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunk = `${(8192).toString(16)}\r\n${'a'.repeat(8192)}\r\n`;
    // Twice the limit, in 8 KiB chunks; the client would go on, but the answer comes at the limit.
    const chunks = [head, ...Array.from({ length: (2 * MAX_BODY) / 8192 }, () => chunk), '0\r\n\r\n'];
    const answer = await trickle(port, chunks, { delayMs: 10 });
    expect(answer.status).toBe(413);
    expect(answer.raw).toMatch(/connection: close/i);
    expect(temporal.calls).toEqual([]);
  });

  it('answers 413 at once to a declared Content-Length over the limit, before the body arrives', async () => {
    const request = `POST /webhooks/deploy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${DEPLOY_MAX_BODY + 1}\r\n\r\n{"service":`;
    const answer = await trickle(port, [...pieces(request, 20)], { delayMs: 5 });
    expect(answer.status).toBe(413);
    expect(temporal.calls).toEqual([]);
  });

  it('drops a client that stalls mid-body with 408 once the request timeout passes', async () => {
    const body = json({ service: 'checkout-service', revision: 'a'.repeat(40) });
    const request = `POST /webhooks/deploy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const started = performance.now();
    // Sends all but the last 5 bytes of the body, then nothing more.
    const chunks = pieces(request.slice(0, -5), 10);
    const answer = await trickle(port, chunks, { delayMs: 5, stallAfter: chunks.length });
    const waitedMs = performance.now() - started;
    expect(answer.status).toBe(408);
    expect(waitedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    // Node 20 alone would wait for its 60 s headersTimeout; the edge holds a stalled body to its own timeout.
    expect(waitedMs).toBeLessThan(REQUEST_TIMEOUT_MS * 3);
    expect(temporal.calls).toEqual([]);
  });
});
