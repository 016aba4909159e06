/**
 * A loopback stand-in for an HTTP API that answers from recorded HAR exchanges, so a real SDK can be
 * exercised offline: point the client at `baseUrl`. Each exchange answers one request, the first
 * still unanswered one that matches it, so a recording that repeats a request (a DELETE answered 200
 * and then 404) replays in order. A request nothing matches gets a 599 naming it, so a test fails at
 * once instead of waiting on a socket.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

interface HarHeader {
  name: string;
  value: string;
}

export interface HarRequest {
  method: string;
  url: string;
  headers: HarHeader[];
  postData?: { mimeType?: string; text?: string };
}

export interface HarResponse {
  status: number;
  headers: HarHeader[];
  content: { mimeType?: string; text?: string; encoding?: string };
}

export interface HarEntry {
  request: HarRequest;
  response: HarResponse;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Names in lower case, as Node reads them: the SDK's header casing does not matter. */
  headers: http.IncomingHttpHeaders;
  /** Parsed when it is JSON, the text otherwise, undefined when there is none. */
  body: unknown;
  /** Label of the exchange that answered, or null when none matched and the server answered 599. */
  answeredBy: string | null;
  receivedAtMs: number;
}

const UNMATCHED_STATUS = 599;

interface Exchange {
  label: string;
  method: string;
  path: string;
  query: [string, string][];
  body: string | undefined;
  mediaType: string | undefined;
  response: HarResponse;
  answered: boolean;
}

/** Headers that describe the recorded transfer rather than the answer: Node sets its own. */
const TRANSFER_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

export function readHar(file: string): HarEntry[] {
  const har = JSON.parse(fs.readFileSync(file, 'utf8')) as { log?: { entries?: HarEntry[] } };
  if (!Array.isArray(har.log?.entries)) throw new Error(`${file} is not a HAR file: it has no log.entries`);
  return har.log.entries;
}

/** A response in HAR form, for synthetic exchanges. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HarResponse {
  return {
    status,
    headers: [{ name: 'content-type', value: 'application/json' }, ...Object.entries(headers).map(([name, value]) => ({ name, value }))],
    content: { mimeType: 'application/json', text: JSON.stringify(body) },
  };
}

function sortedQuery(params: URLSearchParams): [string, string][] {
  return [...params.entries()].sort(([a, av], [b, bv]) => a.localeCompare(b) || av.localeCompare(bv));
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]!.trim().toLowerCase() || undefined;
}

function parseBody(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeExchange(exchange: Pick<Exchange, 'method' | 'path' | 'query' | 'body'>): string {
  const query = exchange.query.length > 0 ? `?${new URLSearchParams(exchange.query).toString()}` : '';
  const body = exchange.body ? ` ${exchange.body.slice(0, 400)}` : '';
  return `${exchange.method} ${exchange.path}${query}${body}`;
}

export class HarReplayServer {
  /** Every request in arrival order, answered or not. */
  readonly received: ReceivedRequest[] = [];
  private readonly exchanges: Exchange[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<HarReplayServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const replay = new HarReplayServer(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => replay.handle(req, res));
    return replay;
  }

  /** Adds every exchange of a recording, labelled with its scenario (the HAR's folder) and position. */
  replay(harFile: string): void {
    const scenario = path.basename(path.dirname(harFile));
    readHar(harFile).forEach((entry, index) => {
      const url = new URL(entry.request.url);
      this.add({
        label: `${scenario} #${index}`,
        method: entry.request.method,
        path: url.pathname,
        query: sortedQuery(url.searchParams),
        body: entry.request.postData?.text || undefined,
        mediaType: mediaTypeOf(entry.request.postData?.mimeType),
        response: entry.response,
      });
    });
  }

  /**
   * Adds an exchange that no recording holds: a request the code under test makes in a form the
   * recordings do not (its answer often a recorded response), or a condition they never caught.
   */
  answer(label: string, request: { method: string; url: string; body?: unknown }, response: HarResponse): void {
    const url = new URL(request.url, this.baseUrl);
    const hasBody = request.body !== undefined;
    this.add({
      label: `synthetic: ${label}`,
      method: request.method,
      path: url.pathname,
      query: sortedQuery(url.searchParams),
      body: hasBody ? JSON.stringify(request.body) : undefined,
      mediaType: hasBody ? 'application/json' : undefined,
      response,
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private add(exchange: Omit<Exchange, 'answered'>): void {
    this.exchanges.push({ ...exchange, method: exchange.method.toUpperCase(), answered: false });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.baseUrl);
      const text = Buffer.concat(chunks).toString('utf8');
      const request = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        query: sortedQuery(url.searchParams),
        body: text || undefined,
        mediaType: mediaTypeOf(req.headers['content-type']),
      };
      const match = this.exchanges.find((exchange) => !exchange.answered && this.mismatch(exchange, request) === null);
      this.received.push({
        method: request.method,
        path: request.path,
        query: Object.fromEntries(request.query),
        headers: req.headers,
        body: parseBody(request.body),
        answeredBy: match?.label ?? null,
        receivedAtMs: Date.now(),
      });
      if (!match) {
        res.writeHead(UNMATCHED_STATUS, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [this.unmatchedMessage(request)] }));
        return;
      }
      match.answered = true;
      this.respond(res, match.response);
    });
  }

  /** Why the exchange does not answer the request, or null when it does. */
  private mismatch(exchange: Exchange, request: Pick<Exchange, 'method' | 'path' | 'query' | 'body' | 'mediaType'>): string | null {
    if (exchange.method !== request.method || exchange.path !== request.path) return 'method or path';
    if (!isDeepStrictEqual(exchange.query, request.query)) return `query (recorded ${new URLSearchParams(exchange.query).toString() || 'none'})`;
    if (exchange.body === undefined || request.body === undefined) {
      return exchange.body === request.body ? null : `body (recorded ${exchange.body ?? 'none'})`;
    }
    if (exchange.mediaType && exchange.mediaType !== request.mediaType) return `content type (recorded ${exchange.mediaType})`;
    // JSON compared as data: the SDK's key order and number formatting (2 for 2.0) are not the API's concern.
    return isDeepStrictEqual(parseBody(exchange.body), parseBody(request.body)) ? null : `body (recorded ${exchange.body.slice(0, 400)})`;
  }

  private unmatchedMessage(request: Pick<Exchange, 'method' | 'path' | 'query' | 'body' | 'mediaType'>): string {
    const nearest = this.exchanges
      .filter((exchange) => !exchange.answered && exchange.method === request.method && exchange.path === request.path)
      .map((exchange) => `${exchange.label} differs in ${this.mismatch(exchange, request)}`);
    const hint = nearest.length > 0 ? `; unanswered exchanges on that path: ${nearest.join('; ')}` : '; no unanswered exchange has that method and path';
    return `har-replay: no exchange answers ${describeExchange(request)}${hint}`;
  }

  private respond(res: http.ServerResponse, response: HarResponse): void {
    const headers: Record<string, string> = {};
    for (const header of response.headers) {
      if (!TRANSFER_HEADERS.has(header.name.toLowerCase())) headers[header.name.toLowerCase()] = header.value;
    }
    const { text = '', encoding } = response.content;
    res.writeHead(response.status, headers).end(Buffer.from(text, encoding === 'base64' ? 'base64' : 'utf8'));
  }
}

/**
 * The recorded Datadog exchanges, in the workspace's shared/ folder beside the repository (as CI
 * lays it out), or where STEWARD_SHARED_DIR points.
 */
export function datadogFixturesDir(kind: 'monitors' | 'logs'): string {
  const shared = process.env.STEWARD_SHARED_DIR ?? path.join(__dirname, '..', '..', '..', 'shared');
  const dir = path.join(shared, 'fixtures', 'datadog', kind);
  if (!fs.existsSync(dir)) {
    throw new Error(`The recorded Datadog exchanges are not at ${dir}: put the workspace's shared/ folder beside the repository, or set STEWARD_SHARED_DIR`);
  }
  return dir;
}
