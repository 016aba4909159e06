import type { TLSConfig } from '@temporalio/client';
import type { TemporalSecurity } from './temporal-security.config';

/**
 * The options every Temporal connection Steward opens is given: the client's (`Connection`) and the
 * workers' (`NativeConnection`) take the same three, so the API, the workers and the CLI cannot
 * disagree on how they reach one server. TLS is always said outright (an object or false): left
 * out, the SDK would decide from the API key by itself.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls: TLSConfig | false;
  apiKey?: string;
}

export function temporalConnectionOptions(address: string, security: TemporalSecurity): TemporalConnectionOptions {
  const tls: TLSConfig | false = security.tls
    ? {
        ...(security.tls.serverName ? { serverNameOverride: security.tls.serverName } : {}),
        ...(security.tls.serverRootCaCertificate ? { serverRootCACertificate: security.tls.serverRootCaCertificate } : {}),
        ...(security.tls.clientCertPair ? { clientCertPair: security.tls.clientCertPair } : {}),
      }
    : false;
  return { address, tls, ...(security.apiKey ? { apiKey: security.apiKey } : {}) };
}

/** The embedded dev server Steward starts itself: plaintext, no key. */
export const PLAINTEXT: TemporalSecurity = { transport: 'plaintext', tls: null, apiKey: null, configuredBy: [] };
