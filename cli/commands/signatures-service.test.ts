import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { LogTemplateMiner } from '../../domain/log-template-miner';
import { createTestDatabase } from '../../test/support/database';
import { buildCliContext } from '../../workers/cli-context';
import type { CliIo } from '../context';
import { runCli } from '../program';

/** `steward signatures --service` through the CLI's real composition, over a test database seeded through the port. */
describe('steward signatures --service', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const miner = new LogTemplateMiner();
  const declined = miner.learn('payment declined for order 1').id;
  const timeout = miner.learn('timeout calling inventory after 300 ms').id;
  const h = (n: number) => `2026-11-29T${String(n).padStart(2, '0')}:00:00.000Z`;

  beforeAll(async () => {
    database = await createTestDatabase();
    const store = new PostgresSignatureStore(database.pool);
    await store.recordMining('checkout', {
      miner: miner.state(),
      countedFrom: null,
      countedUntil: h(12),
      counts: [
        { signature: declined, hour: h(9), count: 3, sampledFraction: 1 },
        { signature: declined, hour: h(11), count: 1, sampledFraction: 1 },
        { signature: timeout, hour: h(10), count: 40, sampledFraction: 0.25 },
      ],
      templates: [
        { signature: declined, template: 'payment declined for order <*>', seenAt: h(11) },
        { signature: timeout, template: 'timeout calling inventory after <*>', seenAt: h(10) },
      ],
    });
    for (const [n, verdict] of [[1, 'clean'], [2, 'regressed'], [3, 'pending']] as const) {
      await store.recordDeploy({ watchId: `deploy-checkout-r${n}`, service: 'checkout', revision: `r${n}`, previousRevision: null, environment: 'production', deployedAt: h(9 + n), verdict: 'pending' });
      if (verdict !== 'pending') await store.setDeployVerdict(`deploy-checkout-r${n}`, verdict);
    }
  });
  afterAll(() => database.drop());

  async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      write: () => undefined,
      readInput: () => Promise.reject(new Error('signatures --service must not read standard input')),
    };
    const code = await runCli(argv, buildCliContext(io, env));
    return { code, out, err };
  }

  it('prints the signatures, largest total first, with their hours, the counted span and the latest deploys', async () => {
    const { code, out, err } = await run(['signatures', '--service', 'checkout', '--deploys', '2'], { DATABASE_URL: database.url });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toBe('service checkout');
    expect(lines[1]).toMatch(new RegExp(`^counted: from ${h(9)} until ${h(12)} \\(updated \\d{4}-`));
    const row = (id: string) => lines.find((line) => line.startsWith(id))?.split(/\s{2,}/);
    // The sampled signature's total is marked as an estimate.
    expect(row(timeout)).toEqual([timeout, '~40', '1', h(10), h(10), 'timeout calling inventory after <*>']);
    expect(row(declined)).toEqual([declined, '4', '2', h(9), h(11), 'payment declined for order <*>']);
    expect(lines.indexOf(lines.find((l) => l.startsWith(timeout))!)).toBeLessThan(lines.indexOf(lines.find((l) => l.startsWith(declined))!));
    const deployRows = lines.filter((line) => line.startsWith('2026-')).map((line) => line.split(/\s{2,}/));
    expect(deployRows).toEqual([
      [h(12), 'r3', 'pending', 'production', 'deploy-checkout-r3'],
      [h(11), 'r2', 'regressed', 'production', 'deploy-checkout-r2'],
    ]);
  });

  it('prints one JSON object with --json', async () => {
    const { code, out } = await run(['signatures', '--service', 'checkout', '--json'], { DATABASE_URL: database.url });
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const view = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(view).toMatchObject({
      service: 'checkout',
      mining: { countedFrom: h(9), countedUntil: h(12) },
      signatures: [
        { signature: timeout, template: 'timeout calling inventory after <*>', total: 40, hours: 1, firstHour: h(10), lastHour: h(10), lowestSampledFraction: 0.25 },
        { signature: declined, template: 'payment declined for order <*>', total: 4, hours: 2, firstHour: h(9), lastHour: h(11), lowestSampledFraction: 1 },
      ],
    });
    expect((view.deploys as { revision: string; verdict: string }[]).map((d) => [d.revision, d.verdict])).toEqual([
      ['r3', 'pending'],
      ['r2', 'regressed'],
      ['r1', 'clean'],
    ]);
  });

  it('says so for a service the store has never seen', async () => {
    const { code, out } = await run(['signatures', '--service', 'nowhere'], { DATABASE_URL: database.url });
    expect(code).toBe(0);
    expect(out.join('\n')).toBe(['service nowhere', 'counted: never (no deploy watch has read its error logs)', '', 'signatures: none', '', 'deploys: none'].join('\n'));
  });

  it('names DATABASE_URL when it is not set, and refuses --state with --service', async () => {
    const missing = await run(['signatures', '--service', 'checkout'], {});
    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toMatch(/DATABASE_URL is not set: signatures --service reads/);

    const both = await run(['signatures', '--service', 'checkout', '--state', 'miner.json'], { DATABASE_URL: database.url });
    expect(both.code).toBe(2);
    expect(both.err.join('\n')).toMatch(/--state is for mining standard input/);

    const badCount = await run(['signatures', '--service', 'checkout', '--deploys', 'many'], { DATABASE_URL: database.url });
    expect(badCount.code).toBe(2);
    expect(badCount.err.join('\n')).toMatch(/--deploys/);
  });

  it('fails naming DATABASE_URL when the database cannot be reached', async () => {
    const { code, err } = await run(['signatures', '--service', 'checkout'], { DATABASE_URL: 'postgres://steward@127.0.0.1:1/none' });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/cannot read the signatures of checkout from Postgres \(DATABASE_URL\)/);
  });
});
