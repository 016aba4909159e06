import * as fs from 'node:fs';
import { z } from 'zod';
import { ConfigError, type EnvOf } from './env';

/**
 * How Steward authenticates to a Temporal it did not start: TLS with the system's or a given CA,
 * mTLS with a client certificate (self-hosted, or Temporal Cloud), an API key (Temporal Cloud).
 * The variables are the ones Temporal's own clients and CLI read (docs.temporal.io, "Environment
 * configuration"), so one environment serves `temporal` and Steward alike. Certificates and keys
 * are read here, once, so that a wrong path or a file that is not PEM stops the process at start
 * with the variable's name instead of failing the first connection.
 */

const optionalText = z.string().min(1, 'set a value, or leave the variable unset').optional();

export const temporalSecurityEnv = {
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS: z.enum(['true', 'false'], { message: 'TEMPORAL_TLS is true or false' }).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_CERT_DATA: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_DATA: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
};
type SecurityEnv = EnvOf<typeof temporalSecurityEnv>;

export interface TemporalTls {
  /** SNI and the name the server's certificate is checked against, when it is not the address's host. */
  serverName: string | null;
  /** PEM; null trusts the system's CAs (Temporal Cloud's certificates are publicly issued). */
  serverRootCaCertificate: Buffer | null;
  /** mTLS: PEM certificate and private key. */
  clientCertPair: { crt: Buffer; key: Buffer } | null;
}

export interface TemporalSecurity {
  transport: 'plaintext' | 'tls';
  tls: TemporalTls | null;
  apiKey: string | null;
  /** The variables that made these settings, for messages (empty: plaintext, no key). */
  configuredBy: string[];
}

type PemKind = 'certificate' | 'private key';
const PEM_MARKERS: Record<PemKind, RegExp> = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  'private key': /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
};

/** One PEM item given either as a file (`…_PATH`) or inline (`…_DATA`), never both. */
function readPem(e: SecurityEnv, base: 'TEMPORAL_TLS_CLIENT_CERT' | 'TEMPORAL_TLS_CLIENT_KEY' | 'TEMPORAL_TLS_SERVER_CA_CERT', kind: PemKind): { pem: Buffer; variable: string } | null {
  const pathVariable = `${base}_PATH` as const;
  const dataVariable = `${base}_DATA` as const;
  const file = e[pathVariable];
  const data = e[dataVariable];
  if (file && data) throw new ConfigError(`${pathVariable} and ${dataVariable} are both set: give the ${kind} one way`);
  let text: string;
  let variable: string;
  if (file) {
    variable = pathVariable;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${pathVariable} (${file}) could not be read: ${(error as Error).message}`);
    }
  } else if (data) {
    variable = dataVariable;
    // A PEM pasted into a one-line variable arrives with its newlines escaped.
    text = data.replace(/\\n/g, '\n');
  } else {
    return null;
  }
  if (!PEM_MARKERS[kind].test(text)) throw new ConfigError(`${variable} does not hold a PEM ${kind} (no "-----BEGIN ${kind === 'certificate' ? 'CERTIFICATE' : '… PRIVATE KEY'}-----" line)`);
  return { pem: Buffer.from(text, 'utf8'), variable };
}

export function temporalSecurity(e: SecurityEnv): TemporalSecurity {
  const configuredBy = (Object.keys(temporalSecurityEnv) as (keyof SecurityEnv)[]).filter((name) => e[name] !== undefined);
  const crt = readPem(e, 'TEMPORAL_TLS_CLIENT_CERT', 'certificate');
  const key = readPem(e, 'TEMPORAL_TLS_CLIENT_KEY', 'private key');
  if (crt && !key) throw new ConfigError(`${crt.variable} is set, but neither TEMPORAL_TLS_CLIENT_KEY_PATH nor TEMPORAL_TLS_CLIENT_KEY_DATA is: mTLS needs the certificate's key`);
  if (key && !crt) throw new ConfigError(`${key.variable} is set, but neither TEMPORAL_TLS_CLIENT_CERT_PATH nor TEMPORAL_TLS_CLIENT_CERT_DATA is: mTLS needs the key's certificate`);
  const ca = readPem(e, 'TEMPORAL_TLS_SERVER_CA_CERT', 'certificate');
  const tlsMaterial = configuredBy.filter((name) => name.startsWith('TEMPORAL_TLS_'));
  if (e.TEMPORAL_TLS === 'false' && tlsMaterial.length > 0) {
    throw new ConfigError(`TEMPORAL_TLS is false, but ${tlsMaterial.join(', ')} ${tlsMaterial.length === 1 ? 'is' : 'are'} set: unset them, or enable TLS`);
  }
  const apiKey = e.TEMPORAL_API_KEY ?? null;
  // As in Temporal's clients: an API key turns TLS on unless TEMPORAL_TLS=false says otherwise.
  const tlsOn = e.TEMPORAL_TLS === 'true' || tlsMaterial.length > 0 || (apiKey !== null && e.TEMPORAL_TLS !== 'false');
  return {
    transport: tlsOn ? 'tls' : 'plaintext',
    tls: tlsOn
      ? {
          serverName: e.TEMPORAL_TLS_SERVER_NAME ?? null,
          serverRootCaCertificate: ca?.pem ?? null,
          clientCertPair: crt && key ? { crt: crt.pem, key: key.pem } : null,
        }
      : null,
    apiKey,
    configuredBy,
  };
}

/** One line for start-up logs: how this process reaches Temporal, never the secrets themselves. */
export function describeTemporalSecurity(security: TemporalSecurity): string {
  if (security.transport === 'plaintext') return security.apiKey ? 'plaintext with an API key (TEMPORAL_TLS=false)' : 'plaintext';
  const tls = security.tls!;
  const parts = [tls.clientCertPair ? 'mTLS (client certificate)' : 'TLS'];
  if (security.apiKey) parts.push('API key');
  parts.push(tls.serverRootCaCertificate ? 'server CA given' : 'system CAs');
  if (tls.serverName) parts.push(`server name ${tls.serverName}`);
  return parts.join(', ');
}
