import { createHash } from 'node:crypto';
import { StorageDriverClaim, type StorageDriver } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import type { PayloadStorePort } from '../ports/payload-store.port';

/**
 * Temporal's external storage driver (the SDK's claim check) over Steward's payload store: a
 * payload above the size threshold is kept in Postgres, and the workflow history holds a small
 * reference (driver name and content hash) that workers and clients resolve transparently.
 * Diffs, command output and the incident state saved at each checkpoint stay out of the history
 * this way, which keeps it far from Temporal's size limits and fast to replay.
 */
export class PayloadStorageDriver implements StorageDriver {
  readonly name = 'steward-payload-store';
  readonly type = 'steward.postgres';

  constructor(private readonly payloads: PayloadStorePort) {}

  async store(_context: unknown, payloads: Payload[]): Promise<StorageDriverClaim[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = serializePayload(payload);
        const key = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        await this.payloads.put(key, bytes);
        return new StorageDriverClaim({ key, bytes: String(bytes.length) });
      }),
    );
  }

  async retrieve(_context: unknown, claims: StorageDriverClaim[]): Promise<Payload[]> {
    return Promise.all(
      claims.map(async (claim) => {
        const key = claim.claimData.key;
        if (!key?.startsWith('sha256:')) throw new Error(`A payload reference without a sha256 key: ${JSON.stringify(claim.claimData)}`);
        const bytes = await this.payloads.get(key);
        // The key is the content's hash: a row that does not match it was altered and must not decode.
        const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        if (actual !== key) throw new Error(`Stored payload ${key} does not match its hash (found ${actual})`);
        return deserializePayload(bytes);
      }),
    );
  }
}

/** JSON with base64 values: self-describing, and readable with psql when someone has to look. */
function serializePayload(payload: Payload): Uint8Array {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value ?? new Uint8Array()).toString('base64')]));
  return Buffer.from(JSON.stringify({ metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') }), 'utf8');
}

function deserializePayload(bytes: Uint8Array): Payload {
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { metadata: Record<string, string>; data: string };
  return {
    metadata: Object.fromEntries(Object.entries(parsed.metadata).map(([name, value]) => [name, new Uint8Array(Buffer.from(value, 'base64'))])),
    data: new Uint8Array(Buffer.from(parsed.data, 'base64')),
  };
}
