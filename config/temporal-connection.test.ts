import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { makeTestCertificates, type TestCertificates } from '../test/support/tls-certificates';
import { buildCliContext } from '../workers/cli-context';
import { loadConfig } from './config';
import { PLAINTEXT, temporalConnectionOptions } from './temporal-connection';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.remove());

describe('temporalConnectionOptions', () => {
  it('says plaintext outright for the dev server, so an SDK default cannot turn TLS on', () => {
    expect(temporalConnectionOptions('127.0.0.1:7233', PLAINTEXT)).toEqual({ address: '127.0.0.1:7233', tls: false });
  });

  it('passes the client pair, the server CA and the server name to the SDK', () => {
    const { temporal } = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
      TEMPORAL_TLS_SERVER_NAME: certs.serverName,
    });
    const options = temporalConnectionOptions(temporal.address!, temporal.security);
    expect(options).toEqual({
      address: 'temporal.internal:7233',
      tls: {
        serverNameOverride: certs.serverName,
        serverRootCACertificate: fs.readFileSync(certs.caCert),
        clientCertPair: { crt: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) },
      },
    });
  });

  it('sends an API key over TLS with the system CAs (Temporal Cloud), and over plaintext only when told', () => {
    const cloud = loadConfig({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'key-123' }).temporal;
    expect(temporalConnectionOptions(cloud.address!, cloud.security)).toEqual({ address: 'us-east-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'key-123' });
    const plain = loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' }).temporal;
    expect(temporalConnectionOptions(plain.address!, plain.security)).toEqual({ address: 'temporal:7233', tls: false, apiKey: 'key-123' });
  });
});

/**
 * The options reach a real handshake: a loopback HTTP/2 server with the test CA's certificate,
 * requiring a client certificate from that CA, answers every gRPC call UNIMPLEMENTED (which the
 * client takes as an older server), and records who connected and what they sent.
 */
describe('an mTLS connection to a loopback server', () => {
  interface Seen {
    servername: string | undefined;
    clientCn: string | undefined;
    authorization: string | undefined;
  }
  let server: http2.Http2SecureServer;
  let address: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = http2.createSecureServer({
      cert: fs.readFileSync(certs.serverCert),
      key: fs.readFileSync(certs.serverKey),
      ca: fs.readFileSync(certs.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('stream', (stream, headers) => {
      const socket = stream.session?.socket as TLSSocket | undefined;
      seen.push({
        servername: (socket as TLSSocket & { servername?: string })?.servername,
        clientCn: socket?.getPeerCertificate().subject?.CN as string | undefined,
        authorization: headers.authorization,
      });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'loopback' }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const configured = (extra: NodeJS.ProcessEnv) =>
    loadConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert, TEMPORAL_TLS_SERVER_NAME: certs.serverName, ...extra }).temporal;

  it('presents the configured client certificate, checks the server against the CA and name, and sends the API key', async () => {
    seen.length = 0;
    const temporal = configured({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey, TEMPORAL_API_KEY: 'key-123' });
    const connection = await Connection.connect({ ...temporalConnectionOptions(address, temporal.security), connectTimeout: 5_000 });
    await connection.close();
    expect(seen[0]).toEqual({ servername: certs.serverName, clientCn: 'steward-test-client', authorization: 'Bearer key-123' });
  });

  it("gives the workers' native connection the same certificate, CA, name and key", async () => {
    seen.length = 0;
    const temporal = configured({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey, TEMPORAL_API_KEY: 'key-456' });
    // Unlike the client, the native connection takes no UNIMPLEMENTED for an answer; that the call got
    // one back proves the handshake, which is what is tested here.
    await expect(NativeConnection.connect(temporalConnectionOptions(address, temporal.security))).rejects.toThrow(/GetSystemInfo.*not implemented/);
    expect(seen[0]).toEqual({ servername: certs.serverName, clientCn: 'steward-test-client', authorization: 'Bearer key-456' });
  });

  it("gives `steward export`'s connection the configured certificate, CA, name and key", async () => {
    seen.length = 0;
    const env = { TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert, TEMPORAL_TLS_SERVER_NAME: certs.serverName, TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey, TEMPORAL_API_KEY: 'key-789' };
    const quiet = { out: () => undefined, err: () => undefined, write: () => undefined };
    // The database is never reached: the pool connects on its first query, and the export makes none here.
    const session = await buildCliContext(quiet, env).openRunExport('postgres://nobody@127.0.0.1:1/none');
    await session.close();
    expect(seen[0]).toEqual({ servername: certs.serverName, clientCn: 'steward-test-client', authorization: 'Bearer key-789' });
  });

  it('is refused with a certificate from a CA the server does not trust', async () => {
    const temporal = configured({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.strangerCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.strangerKey });
    await expect(Connection.connect({ ...temporalConnectionOptions(address, temporal.security), connectTimeout: 3_000 })).rejects.toThrow();
  });

  it('does not trust the server without its CA', async () => {
    const temporal = loadConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_NAME: certs.serverName, TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey }).temporal;
    await expect(Connection.connect({ ...temporalConnectionOptions(address, temporal.security), connectTimeout: 3_000 })).rejects.toThrow();
  });
});
