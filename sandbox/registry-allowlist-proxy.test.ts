import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_REGISTRY_HOSTS, RegistryAllowlistProxy, isHostAllowed, type ProxyListenTarget, type RegistryAllowlistProxyOptions } from './registry-allowlist-proxy';

/** Sends a request head (and optionally bytes right behind it) and collects everything the proxy answers until it closes or `until` matches. */
function converse(target: ProxyListenTarget, head: string, options: { after?: string; until?: RegExp } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = 'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer; got ${JSON.stringify(received)}`));
    }, 5_000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    socket.on('connect', () => socket.write(head + (options.after ?? '')));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (options.until?.test(received)) finish();
    });
    socket.on('end', finish);
    socket.on('error', reject);
  });
}

describe('isHostAllowed', () => {
  it('matches exact names and wildcard suffixes, ignoring case and a trailing dot', () => {
    expect(isHostAllowed('registry.npmjs.org', DEFAULT_REGISTRY_HOSTS)).toBe(true);
    expect(isHostAllowed('Registry.NPMJS.org.', DEFAULT_REGISTRY_HOSTS)).toBe(true);
    expect(isHostAllowed('cdn.example.org', ['*.example.org'])).toBe(true);
    expect(isHostAllowed('a.b.example.org', ['*.example.org'])).toBe(true);
  });

  it('refuses look-alikes, the bare wildcard parent and malformed names', () => {
    expect(isHostAllowed('registry.npmjs.org.evil.example', DEFAULT_REGISTRY_HOSTS)).toBe(false);
    expect(isHostAllowed('evilregistry.npmjs.org', DEFAULT_REGISTRY_HOSTS)).toBe(false);
    expect(isHostAllowed('npmjs.org', DEFAULT_REGISTRY_HOSTS)).toBe(false);
    expect(isHostAllowed('example.org', ['*.example.org'])).toBe(false);
    expect(isHostAllowed('badexample.org', ['*.example.org'])).toBe(false);
    expect(isHostAllowed('registry.npmjs.org/x', ['registry.npmjs.org/x'])).toBe(false);
    expect(isHostAllowed('', [''])).toBe(false);
  });
});

describe('RegistryAllowlistProxy', () => {
  let upstream: net.Server;
  let upstreamPort: number;
  let upstreamConnections = 0;
  let scratch: string;
  const proxies: RegistryAllowlistProxy[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-proxy-test-'));
    // An upstream that echoes with a prefix, standing in for a registry.
    upstream = net.createServer((socket) => {
      upstreamConnections++;
      socket.on('data', (chunk) => socket.write(`echo:${chunk.toString('latin1')}`));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const start = async (target: ProxyListenTarget, options: Partial<RegistryAllowlistProxyOptions> = {}): Promise<RegistryAllowlistProxy> => {
    const proxy = await RegistryAllowlistProxy.start(target, {
      allowedHosts: ['registry.test', '127.0.0.1'],
      allowedPorts: [upstreamPort],
      allowPrivateAddresses: true,
      lookup: async (host) => (host === 'registry.test' ? ['127.0.0.1'] : net.isIP(host) ? [host] : []),
      log: (line) => log.push(line),
      ...options,
    });
    proxies.push(proxy);
    return proxy;
  };

  it('tunnels CONNECT to an allowed host both ways, including bytes sent right behind the request', async () => {
    const socketPath = path.join(scratch, 'tunnel.sock');
    const proxy = await start({ socketPath });
    const answer = await converse({ socketPath }, `CONNECT registry.test:${upstreamPort} HTTP/1.1\r\nHost: registry.test\r\n\r\n`, {
      after: 'early-bytes',
      until: /echo:early-bytes/,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('echo:early-bytes');
    expect(proxy.decisions).toEqual([{ host: 'registry.test', port: upstreamPort, allowed: true }]);
  });

  it('keeps the tunnel open for several exchanges', async () => {
    const proxy = await start({ host: '127.0.0.1', port: 0 });
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(proxy.port!, '127.0.0.1');
      let received = '';
      socket.on('connect', () => socket.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\n\r\n`));
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.endsWith('\r\n\r\n')) socket.write('one');
        if (received.endsWith('echo:one')) socket.write('two');
        if (received.endsWith('echo:two')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/200 Connection Established\r\n\r\necho:oneecho:two$/);
  });

  it('answers 403 to a host outside the allowlist, logs it, and never dials out', async () => {
    const socketPath = path.join(scratch, 'refuse.sock');
    const proxy = await start({ socketPath });
    const before = upstreamConnections;
    const answer = await converse({ socketPath }, `CONNECT evil.example:${upstreamPort} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(answer).toContain('not in the registry allowlist');
    expect(proxy.refused()).toEqual([{ host: 'evil.example', port: upstreamPort, allowed: false, reason: 'host not in the registry allowlist' }]);
    expect(log.some((line) => line.includes('refused') && line.includes('evil.example'))).toBe(true);
    expect(upstreamConnections).toBe(before);
  });

  it('refuses ports outside the allowed ones and anything but CONNECT', async () => {
    const proxy = await start({ host: '127.0.0.1', port: 0 });
    const target = { host: '127.0.0.1', port: proxy.port! };
    expect(await converse(target, 'CONNECT registry.test:22 HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 403 /);
    expect(await converse(target, `GET http://registry.test:${upstreamPort}/ HTTP/1.1\r\nHost: registry.test\r\n\r\n`)).toMatch(/^HTTP\/1\.1 405 /);
    expect(await converse(target, 'CONNECT not an authority HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(proxy.refused().map((decision) => decision.port)).toEqual([22, null, null]);
  });

  it('refuses an allowed name that resolves to a private address unless told otherwise', async () => {
    const proxy = await start({ host: '127.0.0.1', port: 0 }, { allowPrivateAddresses: false });
    const before = upstreamConnections;
    const answer = await converse({ host: '127.0.0.1', port: proxy.port! }, `CONNECT registry.test:${upstreamPort} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).toContain('private address (127.0.0.1)');
    expect(upstreamConnections).toBe(before);
  });

  it('answers 502 when an allowed upstream does not accept the connection', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const proxy = await start({ host: '127.0.0.1', port: 0 }, { allowedPorts: [closedPort] });
    const answer = await converse({ host: '127.0.0.1', port: proxy.port! }, `CONNECT registry.test:${closedPort} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 502 /);
    expect(proxy.decisions[0]).toMatchObject({ host: 'registry.test', allowed: true, reason: expect.stringContaining('ECONNREFUSED') });
  });

  it('cuts open tunnels on close', async () => {
    const proxy = await RegistryAllowlistProxy.start(
      { host: '127.0.0.1', port: 0 },
      { allowedHosts: ['127.0.0.1'], allowedPorts: [upstreamPort], allowPrivateAddresses: true },
    );
    const closedByProxy = await new Promise<boolean>((resolve, reject) => {
      const socket = net.connect(proxy.port!, '127.0.0.1');
      socket.on('connect', () => socket.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\n\r\n`));
      socket.once('data', () => void proxy.close());
      socket.on('close', () => resolve(true));
      socket.on('error', reject);
    });
    expect(closedByProxy).toBe(true);
  });
});
