import { defaultPayloadConverter, ExternalStorage, type DataConverter, type Payload } from '@temporalio/common';
import { ExternalStorageRunner } from '@temporalio/common/lib/internal-non-workflow';
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

/**
 * Reads one payload of a fetched history the way a worker would: a reference is read back from the
 * payload store first, then the value is decoded. A history fetched raw (`fetchHistory`) keeps its
 * references, so this is what turns it into what the run saw. The SDK's runner does the lookup
 * (it is internal to the SDK, but it is the one code path that resolves references as workers do).
 */
export function payloadDecoder(dataConverter: DataConverter): (payload: Payload) => Promise<unknown> {
  const runner = dataConverter.externalStorage ? new ExternalStorageRunner(dataConverter.externalStorage) : null;
  const converter = defaultPayloadConverter;
  return async (payload) => {
    const [resolved] = runner ? await runner.retrieve([payload]) : [payload];
    return converter.fromPayload(resolved!);
  };
}
