import type { Pool } from 'pg';
import type { PayloadStorePort } from '../ports/payload-store.port';

/** PayloadStorePort on the `payload_blobs` table. */
export class PostgresPayloadStore implements PayloadStorePort {
  constructor(private readonly pool: Pool) {}

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.pool.query('INSERT INTO payload_blobs (key, data) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, Buffer.from(data)]);
  }

  async get(key: string): Promise<Uint8Array> {
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM payload_blobs WHERE key = $1', [key]);
    if (!rows[0]) throw new Error(`No stored payload ${key} in payload_blobs: the history references a payload this database does not hold`);
    return new Uint8Array(rows[0].data);
  }
}
