import { ExternalStorage, type DataConverter } from '@temporalio/common';
import type { Pool } from 'pg';
import { PayloadStorageDriver } from '../adapters/postgres-payload-storage.driver';
import { PostgresPayloadStore } from '../adapters/postgres-payload-store.adapter';

/**
 * The data converter every Steward worker and client uses: large payloads go to Postgres and the
 * history holds references. Clients need it too, to read results and query answers that were
 * offloaded; one without it fails loudly on the first reference instead of showing garbage.
 */
export function stewardDataConverter(pool: Pool, payloadOffloadBytes: number): DataConverter {
  return {
    externalStorage: new ExternalStorage({
      drivers: [new PayloadStorageDriver(new PostgresPayloadStore(pool))],
      payloadSizeThreshold: payloadOffloadBytes,
    }),
  };
}
