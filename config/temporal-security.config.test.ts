import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTestCertificates, type TestCertificates } from '../test/support/tls-certificates';
import { loadCliConfig } from './cli.config';
import { ConfigError, loadConfig } from './config';
import { describeTemporalSecurity } from './temporal-security.config';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.remove());

const ADDRESS = { TEMPORAL_ADDRESS: 'steward.a1b2c.tmprl.cloud:7233' };

const failure = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
};

describe('Temporal connection security from the environment', () => {
  it('is plaintext without a key when nothing is set, as for the embedded dev server', () => {
    expect(loadConfig({}).temporal.security).toEqual({ transport: 'plaintext', tls: null, apiKey: null, configuredBy: [] });
    expect(loadConfig(ADDRESS).temporal.security.transport).toBe('plaintext');
  });

  it('reads an mTLS client pair and a server CA from files, with the server name', () => {
    const { security } = loadConfig({
      ...ADDRESS,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
      TEMPORAL_TLS_SERVER_NAME: certs.serverName,
    }).temporal;
    expect(security.transport).toBe('tls');
    expect(security.tls!.clientCertPair!.crt.toString()).toBe(fs.readFileSync(certs.clientCert, 'utf8'));
    expect(security.tls!.clientCertPair!.key.toString()).toBe(fs.readFileSync(certs.clientKey, 'utf8'));
    expect(security.tls!.serverRootCaCertificate!.toString()).toBe(fs.readFileSync(certs.caCert, 'utf8'));
    expect(security.tls!.serverName).toBe(certs.serverName);
    expect(describeTemporalSecurity(security)).toBe(`mTLS (client certificate), server CA given, server name ${certs.serverName}`);
  });

  it('takes PEM data inline, also with its newlines escaped as in a one-line variable', () => {
    const crt = fs.readFileSync(certs.clientCert, 'utf8');
    const key = fs.readFileSync(certs.clientKey, 'utf8');
    const { security } = loadConfig({ ...ADDRESS, TEMPORAL_TLS_CLIENT_CERT_DATA: crt.replace(/\n/g, '\\n'), TEMPORAL_TLS_CLIENT_KEY_DATA: key }).temporal;
    expect(security.tls!.clientCertPair!.crt.toString()).toBe(crt);
    expect(security.tls!.clientCertPair!.key.toString()).toBe(key);
    expect(security.tls!.serverRootCaCertificate).toBeNull();
  });

  it('turns TLS on for an API key, as Temporal Cloud needs, unless TEMPORAL_TLS=false says otherwise', () => {
    const cloud = loadConfig({ ...ADDRESS, TEMPORAL_API_KEY: 'key-123' }).temporal.security;
    expect(cloud).toMatchObject({ transport: 'tls', apiKey: 'key-123', tls: { serverName: null, serverRootCaCertificate: null, clientCertPair: null } });
    expect(describeTemporalSecurity(cloud)).toBe('TLS, API key, system CAs');
    const plain = loadConfig({ ...ADDRESS, TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' }).temporal.security;
    expect(plain).toMatchObject({ transport: 'plaintext', apiKey: 'key-123', tls: null });
    expect(loadConfig({ ...ADDRESS, TEMPORAL_TLS: 'true' }).temporal.security.transport).toBe('tls');
  });

  it.each([
    [{ TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS'],
    [{ TEMPORAL_API_KEY: '' }, 'TEMPORAL_API_KEY'],
    [{ TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key' }, 'TEMPORAL_TLS_CLIENT_CERT_PATH (/nonexistent/client.crt) could not be read'],
    [{ TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'not a certificate' }, 'TEMPORAL_TLS_SERVER_CA_CERT_DATA does not hold a PEM certificate'],
    [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'temporal.test' }, 'TEMPORAL_TLS is false, but TEMPORAL_TLS_SERVER_NAME is set'],
  ])('fails fast on %j, naming %s', (env, message) => {
    expect(failure({ ...ADDRESS, ...env })).toContain(message);
  });

  it('refuses half a client pair, naming what is missing', () => {
    expect(failure({ ...ADDRESS, TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert })).toContain(
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set, but neither TEMPORAL_TLS_CLIENT_KEY_PATH nor TEMPORAL_TLS_CLIENT_KEY_DATA is',
    );
    expect(failure({ ...ADDRESS, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey })).toContain('TEMPORAL_TLS_CLIENT_KEY_PATH is set, but neither TEMPORAL_TLS_CLIENT_CERT_PATH');
  });

  it('refuses a certificate given both ways, and a key where the certificate belongs', () => {
    expect(failure({ ...ADDRESS, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert, TEMPORAL_TLS_SERVER_CA_CERT_DATA: fs.readFileSync(certs.caCert, 'utf8') })).toContain(
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_CA_CERT_DATA are both set',
    );
    expect(failure({ ...ADDRESS, TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientKey, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey })).toContain(
      'TEMPORAL_TLS_CLIENT_CERT_PATH does not hold a PEM certificate',
    );
    expect(failure({ ...ADDRESS, TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientCert })).toContain(
      'TEMPORAL_TLS_CLIENT_KEY_PATH does not hold a PEM private key',
    );
  });

  it('refuses security settings without TEMPORAL_ADDRESS: the embedded dev server takes neither TLS nor keys', () => {
    expect(failure({ TEMPORAL_API_KEY: 'key-123' })).toContain('TEMPORAL_API_KEY is set, but TEMPORAL_ADDRESS is not');
    expect(failure({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toContain('TEMPORAL_API_KEY, TEMPORAL_TLS are set, but TEMPORAL_ADDRESS is not');
  });

  it('gives the CLI the same settings as the workers, read the same way', () => {
    const env = { ...ADDRESS, TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert };
    expect(loadCliConfig(env).temporal.security).toEqual(loadConfig(env).temporal.security);
    expect(() => loadCliConfig({ TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(certs.dir, 'absent.key') })).toThrow(/TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });
});
