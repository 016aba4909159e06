import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as querystring from 'node:querystring';

export interface ReceivedCall {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  /** The arguments as Slack reads them: form fields holding objects carry them as JSON text. */
  args: Record<string, unknown>;
}

/** Parses a Web API call body the way Slack does: JSON, or form fields whose object values are JSON text. */
function readArguments(contentType: string, body: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return JSON.parse(body) as Record<string, unknown>;
  if (!contentType.startsWith('application/x-www-form-urlencoded')) throw new Error(`unexpected content type ${contentType}`);
  const fields = querystring.parse(body) as Record<string, string>;
  const args: Record<string, unknown> = { ...fields };
  for (const name of ['blocks', 'attachments', 'metadata']) if (fields[name] !== undefined) args[name] = JSON.parse(fields[name]);
  return args;
}

/** A loopback stand-in for slack.com/api: records each call and answers with the next scripted body. */
export async function startFakeSlack(): Promise<{ apiUrl: string; calls: ReceivedCall[]; answerNext(body: Record<string, unknown>): void; close(): Promise<void> }> {
  const calls: ReceivedCall[] = [];
  const answers: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      calls.push({ method: req.method, url: req.url, authorization: req.headers.authorization, args: readArguments(req.headers['content-type'] ?? '', body) });
      const answer = answers.shift() ?? { ok: true, channel: 'C1', ts: '1700000000.000100' };
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    answerNext: (body) => answers.push(body),
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
