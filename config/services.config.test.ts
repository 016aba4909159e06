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
