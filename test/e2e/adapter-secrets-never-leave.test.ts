import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { format } from 'node:util';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { describeTemporalSecurity } from '../../config/temporal-security.config';
import type { RepositoryRef } from '../../ports/code-host.port';
import { buildIncidentPorts } from '../../workers/dependencies';
import { createTestDatabase } from '../support/database';
import { startFakeGitHub } from '../support/fake-github-server';
import { datadogFixturesDir, HarReplayServer, jsonResponse, readHar } from '../support/har-replay-server';
import { ADAPTER_SECRETS } from '../support/secret-markers';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';

/**
 * Secrets never leave, for the secrets test/e2e/secrets-never-leave.e2e.test.ts cannot set because
 * they take the demo off its embedded defaults (ADAPTER_SECRETS in test/support/secret-markers.ts).
 * The ports are built by the composition root (workers/dependencies.ts, buildIncidentPorts) from a
 * configuration loaded from an environment that sets them, so the adapters are the real ones a
 * worker runs: DatadogMonitors and DatadogLogs with DATADOG_API_KEY and DATADOG_APP_KEY set to markers
 * and DATADOG_API_URL at a loopback server replaying Datadog's recorded exchanges
 * (../shared/fixtures/datadog), and the GitHub App code host with GITHUB_APP_ID, GITHUB_API_URL at
 * the loopback GitHub (test/support/fake-github-server.ts) and a freshly generated RSA key, given once
 * as GITHUB_APP_PRIVATE_KEY and once through GITHUB_APP_PRIVATE_KEY_FILE. A key cannot be a marker,
 * so what is looked for is its PEM body, as overlapping 24-character windows of each line, as text and
 * as a Buffer's bytes (keyNeedles).
 *
 * The calls an incident makes through them are made (a monitor read, a log search, a PR opened from a
 * diff, a comment, the open PRs listed, a line blamed), with the failures an activity would
 * report (a monitor Datadog refuses with 403, one it does not know, a revision GitHub does not have):
 * a marker may reach Datadog only as the DD-API-KEY and DD-APPLICATION-KEY headers, and GitHub only
 * an App JWT the key signed (checked against its public half) and the installation token it bought,
 * never the key. No marker may be anywhere else: in any other header, path, query or body the loopback
 * servers received (the PR's title, body and the commits' blobs, trees and files as GitHub got them),
 * in what the process wrote to stdout, stderr or the console, in the errors the adapters threw (message,
 * stack, cause and every own property, as an activity failure would carry them into the history and
 * so into `steward export`), in the ports' labels, or in any file under the data folder.
 *
 * TEMPORAL_TLS_CLIENT_KEY_DATA and _PATH: `temporal server start-dev` has no TLS flags, so the second
 * test puts an mTLS front (startMtlsFront) before the dev server the tests run on, and connects through
 * it as worker.main.ts and the CLI do (loadConfig, temporalConnectionOptions, the client's Connection
 * and the workers' NativeConnection), with the test CA's client key (tls-certificates.ts); a handshake
 * with the wrong server name is refused. The key must have served the handshake (the front saw the
 * client certificate) and be in no output, start-up line or error.
 *
 * Not covered here: the incident workflow's own history and export, and traces, with these adapters:
 * no recorded Datadog exchange answers what a whole incident asks, so no incident runs through them,
 * and no worker process is started with the TLS key (the connections are made in this process). The
 * demo test covers export and traces with the secrets it can set; these adapters make no spans of their own.
 */

/** The secrets each test below sets, held to ADAPTER_SECRETS so that one added there without a test here fails. */
const DATADOG_KEY_VARIABLES = ['DATADOG_API_KEY', 'DATADOG_APP_KEY'] as const;
const GITHUB_KEY_VARIABLES = ['GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_FILE'] as const;
const TEMPORAL_KEY_VARIABLES = ['TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_CLIENT_KEY_PATH'] as const;

const APP_ID = 515151;
const INSTALLATION_ID = 4242;
const REPOSITORY = 'acme/checkout-service';
const SERVICE = 'checkout-service';
const MONITOR_FIXTURES = datadogFixturesDir('monitors');
const LOG_FIXTURES = datadogFixturesDir('logs');
const BASE_FILE = 'module.exports = { total: (cart) => cart.items.reduce((sum, item) => sum + item.price, 0) };\n';
const FIXED_FILE = 'module.exports = { total: (cart) => (cart.items ?? []).reduce((sum, item) => sum + item.price, 0) };\n';
const DIFF = [
  'diff --git a/src/cart.js b/src/cart.js',
  '--- a/src/cart.js',
  '+++ b/src/cart.js',
  '@@ -1 +1 @@',
  `-${BASE_FILE.trimEnd()}`,
  `+${FIXED_FILE.trimEnd()}`,
  '',
].join('\n');

interface SecretScan {
  /** Variable name to the text that must not leave; a key's windows (keyNeedles) each under their own name. */
  needles: Record<string, string>;
}

/**
 * A key's needles: windows of KEY_WINDOW base64 characters every KEY_WINDOW_STEP along each PEM body
 * line, so that any run of KEY_WINDOW + KEY_WINDOW_STEP characters of a line holds one, whether the key
 * leaks as its PEM, JSON-escaped, or as one line of base64 (the windows never cross a line break),
 * and the same windows as a Buffer's bytes would show them.
 * 24 base64 characters are 144 bits of the key: no other text holds them.
 */
const KEY_WINDOW = 24;
const KEY_WINDOW_STEP = 20;

function keyNeedles(variable: string, pemLines: string[]): Record<string, string> {
  return Object.fromEntries(
    pemLines.flatMap((line, index) =>
      Array.from({ length: Math.max(1, Math.ceil((line.length - KEY_WINDOW) / KEY_WINDOW_STEP) + 1) }, (_, window) => {
        const start = Math.min(window * KEY_WINDOW_STEP, Math.max(0, line.length - KEY_WINDOW));
        const window_ = line.slice(start, start + KEY_WINDOW);
        const where = `${variable} (PEM line ${index + 1}, characters ${start + 1}-${Math.min(start + KEY_WINDOW, line.length)}`;
        const bytes = Buffer.from(window_, 'latin1');
        // A key held as a Buffer leaks as its bytes: hex (toString('hex')) or the numbers JSON.stringify gives.
        return [
          [`${where})`, window_],
          [`${where}, as hex)`, bytes.toString('hex')],
          [`${where}, as JSON bytes)`, [...bytes].join(',')],
        ];
      }).flat(),
    ),
  );
}

/** Every place a needle was found, as `where: name`, with the first line holding it (the needle shown as its name). */
function findSecrets(text: string, where: string, scan: SecretScan): string[] {
  return Object.entries(scan.needles).flatMap(([name, value]) => {
    if (!text.includes(value)) return [];
    const line = text.split('\n').find((candidate) => candidate.includes(value)) ?? '';
    return [`${where}: ${name} in "${line.split(value).join(`<${name}>`).slice(0, 300)}"`];
  });
}

function scanTree(root: string, scan: SecretScan): { hits: string[]; files: number } {
  const hits: string[] = [];
  let files = 0;
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        files += 1;
        hits.push(...findSecrets(fs.readFileSync(full).toString('latin1'), full, scan));
      }
    }
  };
  walk(root);
  return { hits, files };
}

/** An error as an activity failure would carry it: message, stack, cause chain and every own property. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    parts.push(format('%O', current));
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify(Object.fromEntries(Object.getOwnPropertyNames(current).map((name) => [name, (current as unknown as Record<string, unknown>)[name]]))));
      current = current.cause;
    } else current = undefined;
  }
  return parts.join('\n');
}

/** Every write to stdout and stderr, and every console call, for the time of `run`. */
async function capturingOutput<T>(run: () => Promise<T>): Promise<{ result: T; output: string }> {
  const output: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const consoles = methods.map((method) => console[method]);
  streams.forEach((stream, index) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (writes[index] as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  });
  methods.forEach((method) => {
    console[method] = (...args: unknown[]) => void output.push(`${format(...args)}\n`);
  });
  try {
    return { result: await run(), output: output.join('') };
  } finally {
    streams.forEach((stream, index) => void (stream.write = writes[index]!));
    methods.forEach((method, index) => void (console[method] = consoles[index]!));
  }
}

/** Whether a compact JWS was signed by the key whose public half is given (RS256). */
function signedBy(jwt: string, publicKey: KeyObject): boolean {
  const [header, claims, signature] = jwt.split('.');
  if (!header || !claims || !signature) return false;
  return verifySignature('RSA-SHA256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, 'base64url'));
}

it('sets every adapter secret, each in one of the tests below', () => {
  expect([...DATADOG_KEY_VARIABLES, ...GITHUB_KEY_VARIABLES, ...TEMPORAL_KEY_VARIABLES].sort()).toEqual([...ADAPTER_SECRETS].sort());
});

describe('secrets never leave the Datadog and GitHub App adapters', () => {
  const cleanUps: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
  });

  it.each(GITHUB_KEY_VARIABLES)(
    'sends the keys only as their credentials and leaves them nowhere else, the App key given as %s',
    async (keyVariable) => {
      const tag = randomBytes(4).toString('hex');
      const markers = Object.fromEntries(DATADOG_KEY_VARIABLES.map((name) => [name, `marker${tag}${name.toLowerCase().replace(/_/g, '')}`])) as Record<(typeof DATADOG_KEY_VARIABLES)[number], string>;
      // PKCS#1, as GitHub hands out App keys; its body lines, not a marker, are what must not leave.
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const pemLines = pair.privateKey.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
      expect(pemLines.length).toBeGreaterThan(20);
      const scan: SecretScan = { needles: { ...markers, ...keyNeedles(keyVariable, pemLines) } };

      const database = await createTestDatabase();
      cleanUps.push(() => database.drop());
      const root = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'adapter-secrets-'));
      cleanUps.push(async () => fs.rmSync(root, { recursive: true, force: true }));
      const dataDir = path.join(root, 'data');
      const keyFile = path.join(root, 'github-app.pem');
      fs.writeFileSync(keyFile, pair.privateKey, { mode: 0o600 });
      // The service's clone, holding GitHub's commits (written below): the code host mirrors it under the data folder to blame lines, git blame having no REST endpoint.
      const clone = path.join(root, 'checkout-service');
      execFileSync('git', ['init', '-q', '-b', 'main', clone]);
      const servicesFile = path.join(root, 'services.json');
      fs.writeFileSync(
        servicesFile,
        JSON.stringify({ [SERVICE]: { repository: clone, githubRepository: REPOSITORY, testCommand: 'npm test', singleTestCommand: 'npx jest {file}' } }),
      );

      const datadog = await HarReplayServer.start();
      cleanUps.push(() => datadog.close());
      const github = await startFakeGitHub({ appId: APP_ID, appPublicKey: createPublicKey(pair.publicKey) });
      cleanUps.push(() => github.close());
      const base = github.addRepository(REPOSITORY, { installationId: INSTALLATION_ID, files: { 'src/cart.js': BASE_FILE } });
      await github.writeInto(REPOSITORY, clone, async (args, input) => execFileSync('git', args, { cwd: clone, input, encoding: 'utf8' }));

      const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATADOG_|GITHUB_|ANTHROPIC_|OPENAI_|OTEL_|DATABASE_URL$)/.test(name)));
      const env: NodeJS.ProcessEnv = {
        ...inherited,
        DATABASE_URL: database.url,
        STEWARD_DATA_DIR: dataDir,
        STEWARD_SERVICES_FILE: servicesFile,
        STEWARD_SANDBOX_BACKEND: 'process',
        STEWARD_MODEL_PROVIDER: 'replay',
        DATADOG_API_KEY: markers.DATADOG_API_KEY,
        DATADOG_APP_KEY: markers.DATADOG_APP_KEY,
        DATADOG_API_URL: datadog.baseUrl,
        GITHUB_APP_ID: String(APP_ID),
        GITHUB_API_URL: github.baseUrl,
        ...(keyVariable === 'GITHUB_APP_PRIVATE_KEY' ? { GITHUB_APP_PRIVATE_KEY: pair.privateKey } : { GITHUB_APP_PRIVATE_KEY_FILE: keyFile }),
      };

      // The recorded exchanges, and the failures an activity would meet: a 403, an unknown monitor, a missing revision.
      // Recorded answer, synthetic request: the recording asked with ?with_downtimes=true, which the adapter does not.
      const recordedGet = readHar(path.join(MONITOR_FIXTURES, 'Get-a-monitor-s-details-returns-OK-response', 'recording.har')).find((entry) => entry.request.method === 'GET');
      datadog.answer('GET of the recorded monitor', { method: 'GET', url: new URL(recordedGet!.request.url).pathname }, recordedGet!.response);
      datadog.replay(path.join(MONITOR_FIXTURES, 'Get-a-monitor-s-details-returns-Monitor-Not-Found-error-response', 'recording.har'));
      datadog.replay(path.join(LOG_FIXTURES, 'Search-logs-returns-OK-response', 'recording.har'));
      datadog.answer('a monitor the keys may not read', { method: 'GET', url: '/api/v1/monitor/403403' }, jsonResponse(403, { errors: ['Forbidden'] }));
      const service: RepositoryRef = { service: SERVICE, location: REPOSITORY, defaultBranch: 'main' };
      const errors: unknown[] = [];
      const failing = async (call: () => Promise<unknown>): Promise<void> => {
        await call().then(
          () => {
            throw new Error('a call meant to fail succeeded');
          },
          (error: unknown) => void errors.push(error),
        );
      };

      const { result, output } = await capturingOutput(async () => {
        const built = buildIncidentPorts(loadConfig(env), database.pool);
        const { monitors, logs, codeHost } = built.ports;
        const monitor = await monitors.get('155844758');
        const searched = await logs!.searchErrorLogs({ query: 'datadog-agent', from: '2020-09-17T11:48:36+01:00', to: '2020-09-17T12:48:36+01:00', limit: 5, indexes: ['main'] });
        await failing(() => monitors.get('403403'));
        await failing(() => monitors.get('12345'));
        const pull = await codeHost.openPullRequest({
          repository: service,
          incidentId: `incident-${tag}`,
          branch: `steward/incident-${tag}`,
          baseRevision: base,
          title: 'fix: a cart without items totals 0',
          body: `## Incident\n\nOpened by Steward for incident \`incident-${tag}\`.`,
          diff: DIFF,
          draft: false,
        });
        const comment = await codeHost.comment(service, { kind: 'pull_request', number: pull.number }, `verified-${tag}`, 'Verified in a sandbox.');
        const open = await codeHost.openStewardPullRequests(service);
        const author = await codeHost.authorOfLine({ repository: service, revision: base, file: 'src/cart.js', line: 1 });
        await failing(() => codeHost.resolveRevision(service, 'no-such-branch'));
        return { labels: built.labels, monitor, searched, pull, comment, open, author };
      });

      // The calls did what an incident needs, so the scan below looked at real traffic.
      expect(result.monitor.id).toBe('155844758');
      expect(result.searched).toEqual({ logs: [], total: 0, nextCursor: null });
      expect(result.open.map((pr) => pr.number)).toEqual([result.pull.number]);
      expect(result.comment.created).toBe(true);
      expect(result.author.commit).toBe(base);
      expect(errors).toHaveLength(3);
      expect(result.labels.join('\n')).toContain(`GitHub App ${APP_ID} at ${github.baseUrl}`);
      expect(result.labels.join('\n')).toContain(`Datadog at ${datadog.baseUrl}`);
      const [pr] = github.pullRequests(REPOSITORY);
      expect(github.filesAt(pr!.headSha)['src/cart.js']?.content).toBe(FIXED_FILE);
      expect(github.serverErrors).toEqual([]);

      const hits: string[] = [...findSecrets(output, 'stdout, stderr and console', scan), ...findSecrets(result.labels.join('\n'), 'port labels', scan)];
      errors.forEach((error, index) => hits.push(...findSecrets(errorText(error), `error ${index + 1} (${(error as Error).message.slice(0, 80)})`, scan)));

      // Datadog: both keys on every request, as the headers they are, and in nothing else it received.
      expect(datadog.received.map((request) => request.answeredBy !== null)).toEqual([true, true, true, true]);
      for (const [index, request] of datadog.received.entries()) {
        expect([request.headers['dd-api-key'], request.headers['dd-application-key']]).toEqual([markers.DATADOG_API_KEY, markers.DATADOG_APP_KEY]);
        const otherHeaders = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'dd-api-key' && name !== 'dd-application-key'));
        hits.push(...findSecrets(JSON.stringify({ ...request, headers: otherHeaders }), `Datadog request ${index + 1} (${request.method} ${request.path})`, scan));
      }

      // GitHub: the App's JWTs, signed with the key, and the installation tokens they bought; the key itself nowhere.
      const authorizations = github.requests.map((request) => request.headers.authorization ?? '');
      // Schemes are case-insensitive (RFC 9110): Octokit's App auth sends `bearer`.
      const jwts = authorizations.filter((value) => /^bearer /i.test(value)).map((value) => value.slice('bearer '.length));
      expect(jwts.length).toBeGreaterThan(0);
      for (const jwt of jwts) expect(signedBy(jwt, createPublicKey(pair.publicKey))).toBe(true);
      expect(authorizations.filter((value) => !/^bearer /i.test(value)).map((value) => value.replace(/^token ghs_[0-9a-f]+$/, 'token ghs_…'))).toEqual(
        authorizations.filter((value) => !/^bearer /i.test(value)).map(() => 'token ghs_…'),
      );
      for (const [index, request] of github.requests.entries()) {
        hits.push(...findSecrets(`${request.method} ${request.path}?${request.query.toString()}\n${JSON.stringify(request.headers)}\n${JSON.stringify(request.body)}`, `GitHub request ${index + 1} (${request.method} ${request.path})`, scan));
      }
      hits.push(...findSecrets(`${pr!.title}\n${pr!.body}\n${JSON.stringify(github.filesAt(pr!.headSha))}`, `PR #${pr!.number} as GitHub holds it`, scan));

      const data = scanTree(dataDir, scan);
      expect(data.files).toBeGreaterThan(0);
      hits.push(...data.hits);
      console.log(
        `adapter secrets scan (${keyVariable}): ${Object.keys(scan.needles).length} needles; ${output.length} characters of output, ${errors.length} errors, ` +
          `${datadog.received.length} Datadog requests, ${github.requests.length} GitHub requests (${jwts.length} with an App JWT), ${data.files} files under the data folder`,
      );
      expect(hits).toEqual([]);
    },
  );
});

/**
 * An mTLS front for the dev server, which speaks no TLS itself: it asks for a client certificate
 * from the test CA, offers h2 as gRPC needs, and pipes what it decrypts to the dev server's plaintext
 * port. Each connection's client certificate CN is kept, to show the key was used for the handshake.
 */
async function startMtlsFront(certs: TestCertificates, upstream: string): Promise<{ address: string; clients: (string | undefined)[]; close(): Promise<void> }> {
  const clients: (string | undefined)[] = [];
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey), ca: fs.readFileSync(certs.caCert), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      clients.push(socket.getPeerCertificate().subject?.CN as string | undefined);
      const backend = net.connect(port, host === 'localhost' ? '127.0.0.1' : host);
      sockets.add(socket).add(backend);
      socket.pipe(backend).pipe(socket);
      const end = (): void => void (socket.destroy(), backend.destroy());
      socket.on('error', end).on('close', end);
      backend.on('error', end).on('close', end);
    },
  );
  // A refused handshake (the wrong server name) is the client's to report; the front only drops it.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    clients,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("secrets never leave Temporal's TLS connections", () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = makeTestCertificates();
  });
  afterAll(() => certs.remove());

  it.each(TEMPORAL_KEY_VARIABLES)(
    'uses the client key, given as %s, for the handshake only: the client and the workers connect, a refused handshake says nothing of it',
    async (keyVariable) => {
      const clientKey = fs.readFileSync(certs.clientKey, 'utf8');
      const pemLines = clientKey.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
      expect(pemLines.length).toBeGreaterThan(20);
      const scan: SecretScan = { needles: keyNeedles(keyVariable, pemLines) };
      const front = await startMtlsFront(certs, process.env.TEMPORAL_ADDRESS!);
      const environment = (serverName: string): NodeJS.ProcessEnv => ({
        TEMPORAL_ADDRESS: front.address,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
        TEMPORAL_TLS_SERVER_NAME: serverName,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
        ...(keyVariable === 'TEMPORAL_TLS_CLIENT_KEY_DATA' ? { TEMPORAL_TLS_CLIENT_KEY_DATA: clientKey } : { TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey }),
      });
      const errors: unknown[] = [];
      try {
        const { result, output } = await capturingOutput(async () => {
          const security = loadConfig(environment(certs.serverName)).temporal.security;
          // As worker.main.ts and the CLI connect: one set of options for the client and the workers' native connection.
          const options = temporalConnectionOptions(front.address, security);
          const client = await Connection.connect({ ...options, connectTimeout: 10_000 });
          const listed = await client.workflowService.listWorkflowExecutions({ namespace: 'default', pageSize: 1 });
          await client.close();
          const native = await NativeConnection.connect(options);
          await native.close();
          const wrongName = temporalConnectionOptions(front.address, loadConfig(environment('not-temporal.test')).temporal.security);
          await Connection.connect({ ...wrongName, connectTimeout: 3_000 }).then(
            () => errors.push(new Error('a handshake with the wrong server name succeeded')),
            (error: unknown) => void errors.push(error),
          );
          await NativeConnection.connect(wrongName).then(
            () => errors.push(new Error('a native handshake with the wrong server name succeeded')),
            (error: unknown) => void errors.push(error),
          );
          return { listed, described: describeTemporalSecurity(security) };
        });

        expect(Array.isArray(result.listed.executions)).toBe(true);
        expect(result.described).toBe('mTLS (client certificate), server CA given, server name temporal.test');
        // The client's and the workers' handshakes presented the certificate whose key is the secret.
        expect(front.clients.filter((cn) => cn === 'steward-test-client').length).toBeGreaterThanOrEqual(2);
        expect(errors.map((error) => error instanceof Error && !/succeeded$/.test(error.message))).toEqual([true, true]);
        const hits = [
          ...findSecrets(output, 'stdout, stderr and console', scan),
          ...findSecrets(result.described, 'the start-up line on Temporal security', scan),
          ...errors.flatMap((error, index) => findSecrets(errorText(error), `refused handshake ${index + 1} (${(error as Error).message.slice(0, 80)})`, scan)),
        ];
        console.log(`TLS key scan (${keyVariable}): ${Object.keys(scan.needles).length} needles; ${output.length} characters of output, ${errors.length} errors, ${front.clients.length} TLS connections`);
        expect(hits).toEqual([]);
      } finally {
        await front.close();
      }
    },
  );
});
