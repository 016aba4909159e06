import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadServices } from './services.config';

describe('services file: rollbackHook', () => {
  let dir: string;
  let file: string;
  const service = { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}' };
  const write = (settings: Record<string, unknown>) => fs.writeFileSync(file, JSON.stringify({ checkout: { ...service, ...settings } }));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-services-'));
    file = path.join(dir, 'services.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is null when the file gives none', () => {
    write({});
    expect(loadServices(file, dir, {}).checkout!.rollbackHook).toBeNull();
  });

  it('takes POST, no headers and 30 s by default', () => {
    write({ rollbackHook: { url: 'https://deploy.internal/rollback' } });
    expect(loadServices(file, dir, {}).checkout!.rollbackHook).toEqual({ url: 'https://deploy.internal/rollback', method: 'POST', headers: {}, timeoutMs: 30_000 });
  });

  it('resolves ${VAR} in header values from the environment, keeping the rest of the value', () => {
    write({ rollbackHook: { url: 'https://deploy.internal/rollback', method: 'PUT', headers: { Authorization: 'Bearer ${ROLLBACK_TOKEN}', 'X-Team': 'payments' }, timeoutMs: 5_000 } });
    expect(loadServices(file, dir, { ROLLBACK_TOKEN: 's3cret' }).checkout!.rollbackHook).toEqual({
      url: 'https://deploy.internal/rollback',
      method: 'PUT',
      headers: { Authorization: 'Bearer s3cret', 'X-Team': 'payments' },
      timeoutMs: 5_000,
    });
  });

  it('fails naming the variable a header needs when it is not set', () => {
    write({ rollbackHook: { url: 'https://deploy.internal/rollback', headers: { Authorization: 'Bearer ${ROLLBACK_TOKEN}' } } });
    expect(() => loadServices(file, dir, {})).toThrow('checkout.rollbackHook.headers.Authorization names ${ROLLBACK_TOKEN}, but ROLLBACK_TOKEN is not set');
  });

  it('refuses a hook that is not an http(s) URL or has another method, naming the field', () => {
    write({ rollbackHook: { url: 'file:///etc/passwd' } });
    expect(() => loadServices(file, dir, {})).toThrow(/rollbackHook\.url/);
    write({ rollbackHook: { url: 'https://deploy.internal/rollback', method: 'DELETE' } });
    expect(() => loadServices(file, dir, {})).toThrow(/rollbackHook\.method/);
  });
});

describe('services file: nightlyQa', () => {
  let dir: string;
  let file: string;
  const service = { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}' };
  const write = (nightlyQa: unknown) => fs.writeFileSync(file, JSON.stringify({ checkout: nightlyQa === undefined ? service : { ...service, nightlyQa } }));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-services-'));
    file = path.join(dir, 'services.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs at 02:00 UTC, unpaused, quiet nights unsent, when the file gives none', () => {
    write(undefined);
    expect(loadServices(file, dir, {}).checkout!.nightlyQa).toEqual({
      cron: '0 2 * * *',
      timeZone: 'UTC',
      paused: false,
      catchupWindowMs: 3_600_000,
      budgetUsd: 5,
      missionBudgetUsd: 1,
      maxTurnsPerMission: 20,
      maxMissions: 6,
      notifyQuietNights: false,
      coreFeatures: null,
      startCommand: null,
    });
  });

  it('takes the given schedule, budget, features and start command, and a catch-up window as a duration', () => {
    write({ cron: '30 3 * * 1-5', timeZone: 'Europe/Paris', paused: true, catchupWindow: '4h', budgetUsd: 2, missionBudgetUsd: 0.5, coreFeatures: [{ name: 'checkout', areas: ['src/pricing.js'] }], startCommand: 'node src/server.js' });
    expect(loadServices(file, dir, {}).checkout!.nightlyQa).toMatchObject({
      cron: '30 3 * * 1-5',
      timeZone: 'Europe/Paris',
      paused: true,
      catchupWindowMs: 4 * 3_600_000,
      budgetUsd: 2,
      missionBudgetUsd: 0.5,
      coreFeatures: [{ name: 'checkout', areas: ['src/pricing.js'] }],
      startCommand: 'node src/server.js',
    });
  });

  it('refuses a cron that is not five fields, an unknown time zone and a mission budget above the night, naming the field', () => {
    write({ cron: '0 2 * *' });
    expect(() => loadServices(file, dir, {})).toThrow(/nightlyQa\.cron/);
    write({ timeZone: 'Mars/Olympus' });
    expect(() => loadServices(file, dir, {})).toThrow(/nightlyQa\.timeZone/);
    write({ budgetUsd: 1, missionBudgetUsd: 2 });
    expect(() => loadServices(file, dir, {})).toThrow(/missionBudgetUsd cannot exceed/);
    write({ coreFeatures: [] });
    expect(() => loadServices(file, dir, {})).toThrow(/coreFeatures/);
  });
});
