import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Real X.509 material for the Temporal TLS tests, made by openssl in a temporary folder: a CA, a
 * server certificate for `temporal.test` signed by it, and a client certificate signed by it.
 * Node can verify certificates but not issue them, so openssl (Debian's, as on every machine the
 * tests run on) does the issuing.
 */
export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
  /** The name the server certificate is issued for. */
  serverName: string;
  remove(): void;
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, ca: { cert: string; key: string } | null, extensions: string): void {
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, extensions);
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  const signing = ca ? ['-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'] : ['-key', `${name}.key`];
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-out', `${name}.crt`, '-days', '2', '-sha256', '-extfile', ext, ...signing);
}

export function makeTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-tls-'));
  const serverName = 'temporal.test';
  issue(dir, 'ca', '/CN=steward-test-ca', null, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  issue(dir, 'stranger-ca', '/CN=stranger-ca', null, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const ca = { cert: 'ca.crt', key: 'ca.key' };
  issue(dir, 'server', `/CN=${serverName}`, ca, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`);
  issue(dir, 'client', '/CN=steward-test-client', ca, 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'stranger', '/CN=stranger', { cert: 'stranger-ca.crt', key: 'stranger-ca.key' }, 'extendedKeyUsage=clientAuth\n');
  const at = (file: string) => path.join(dir, file);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
    serverName,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
