import { ExternalStorage, StorageDriverClaim, defaultPayloadConverter } from '@temporalio/common';
import { createTestDatabase } from '../test/support/database';
import { PayloadStorageDriver } from './postgres-payload-storage.driver';
import { PostgresPayloadStore } from './postgres-payload-store.adapter';

describe('PayloadStorageDriver over Postgres', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let driver: PayloadStorageDriver;

  beforeAll(async () => {
    database = await createTestDatabase();
    driver = new PayloadStorageDriver(new PostgresPayloadStore(database.pool));
  });
  afterAll(() => database.drop());

  const diff = `diff --git a/src/pricing.js b/src/pricing.js\n${'+  a line of a large change\n'.repeat(5_000)}`;

  it('stores a payload under its content hash and gives it back byte for byte, metadata included', async () => {
    const payload = defaultPayloadConverter.toPayload({ diff, attempt: 2 });
    const [claim] = await driver.store({}, [payload]);
    expect(claim!.claimData.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    const [back] = await driver.retrieve({}, [claim!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual({ diff, attempt: 2 });
    expect(back!.metadata).toEqual(payload.metadata);
  });

  it('keeps one row for the same payload stored twice, as a retried activity would', async () => {
    const payload = defaultPayloadConverter.toPayload({ checkpoint: 'same state' });
    const [first] = await driver.store({}, [payload]);
    const [second] = await driver.store({}, [payload]);
    expect(second!.claimData.key).toBe(first!.claimData.key);
    const { rows } = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM payload_blobs WHERE key = $1', [first!.claimData.key]);
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses a row that no longer matches its hash, and a key it does not hold', async () => {
    const [claim] = await driver.store({}, [defaultPayloadConverter.toPayload('to be altered')]);
    await database.pool.query("UPDATE payload_blobs SET data = convert_to('{\"metadata\":{},\"data\":\"\"}', 'UTF8') WHERE key = $1", [claim!.claimData.key]);
    await expect(driver.retrieve({}, [claim!])).rejects.toThrow(/does not match its hash/);
    await expect(driver.retrieve({}, [new StorageDriverClaim({ key: `sha256:${'0'.repeat(64)}` })])).rejects.toThrow(/No stored payload/);
    await expect(driver.retrieve({}, [new StorageDriverClaim({ path: '/etc/passwd' })])).rejects.toThrow(/without a sha256 key/);
  });

  it('is accepted by the SDK as an external storage driver', () => {
    const storage = new ExternalStorage({ drivers: [driver], payloadSizeThreshold: 1_024 });
    expect(storage.getDriver('steward-payload-store')).toBe(driver);
  });
});
