import * as dns from 'node:dns';
import * as net from 'node:net';

/**
 * The only way out of a sandbox's network namespace, and only while dependencies install: an HTTP
 * CONNECT proxy on the host that tunnels to package registries named in an allowlist and answers
 * 403 to anything else. Sandboxes reach it through a unix socket bind-mounted into the sandbox and
 * a forwarder running inside (SETUP_FORWARDER_SOURCE), since their namespace has no route to the host.
 *
 * Only CONNECT is served: every registry speaks HTTPS, and a tunnel exposes nothing but the host
 * and port to decide on, which keeps the decision small. The target is resolved here and the
 * tunnel dialled to the address that was checked, so a name in the allowlist that resolves (or is
 * rebound) to a loopback, private or link-local address, such as a cloud metadata endpoint, is refused.
 */

export const DEFAULT_REGISTRY_HOSTS: readonly string[] = [
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'pypi.org',
  'files.pythonhosted.org',
  'proxy.golang.org',
  'sum.golang.org',
  'repo.maven.apache.org',
  'repo1.maven.org',
];

export interface RegistryAllowlistProxyOptions {
  /** Exact host names, or `*.example.org` for any name below example.org (not example.org itself). */
  allowedHosts: readonly string[];
  allowedPorts?: readonly number[];
  /** Tests point the allowlist at a loopback upstream; in production a registry never resolves there. */
  allowPrivateAddresses?: boolean;
  log?: (line: string) => void;
  connectTimeoutMs?: number;
  /** A tunnel silent for this long is closed. */
  idleTimeoutMs?: number;
  /** Name resolution, replaceable in tests. */
  lookup?: (host: string) => Promise<string[]>;
}

export interface ProxyDecision {
  host: string;
  port: number | null;
  allowed: boolean;
  /** Why a request was refused, or why an allowed one could not be tunnelled. */
  reason?: string;
}

export type ProxyListenTarget = { socketPath: string } | { host: string; port: number };

const MAX_REQUEST_HEAD_BYTES = 16 * 1024;
const HOST_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

export class RegistryAllowlistProxy {
  /** Every request seen, in order: refusals are reported to whoever ran the setup. */
  readonly decisions: ProxyDecision[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly allowedPorts: ReadonlySet<number>;
  private readonly privateAddresses = privateAddressList();
  private readonly log: (line: string) => void;

  private constructor(
    private readonly server: net.Server,
    private readonly options: RegistryAllowlistProxyOptions,
  ) {
    this.allowedPorts = new Set(options.allowedPorts ?? [443]);
    this.log = options.log ?? (() => undefined);
    server.on('connection', (client) => this.accept(client));
  }

  static async start(target: ProxyListenTarget, options: RegistryAllowlistProxyOptions): Promise<RegistryAllowlistProxy> {
    const server = net.createServer();
    const proxy = new RegistryAllowlistProxy(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = (): void => {
        server.off('error', reject);
        resolve();
      };
      if ('socketPath' in target) server.listen(target.socketPath, listening);
      else server.listen(target.port, target.host, listening);
    });
    return proxy;
  }

  /** The TCP port when listening on one, for tests. */
  get port(): number | null {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address.port : null;
  }

  refused(): ProxyDecision[] {
    return this.decisions.filter((decision) => !decision.allowed);
  }

  /** Stops listening and cuts every open tunnel: nothing may stay connected once the setup is over. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private accept(client: net.Socket): void {
    this.track(client);
    client.on('error', () => client.destroy());
    client.setTimeout(this.options.idleTimeoutMs ?? 5 * 60_000, () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_REQUEST_HEAD_BYTES) this.reply(client, 431, 'request head too large');
        return;
      }
      client.off('data', onData);
      client.pause();
      // Bytes after the head (a TLS ClientHello sent eagerly) belong to the tunnel.
      void this.handle(client, head.subarray(0, end).toString('latin1'), head.subarray(end + 4));
    };
    client.on('data', onData);
  }

  private async handle(client: net.Socket, head: string, early: Buffer): Promise<void> {
    const [method = '', authority = ''] = head.split('\r\n')[0].split(' ');
    if (method.toUpperCase() !== 'CONNECT') {
      this.refuse(client, { host: authority, port: null, allowed: false, reason: `method ${method} is not served: only CONNECT tunnels` }, 405);
      return;
    }
    const target = parseAuthority(authority);
    if (target === null) {
      this.refuse(client, { host: authority, port: null, allowed: false, reason: 'not a host:port' }, 400);
      return;
    }
    const { host, port } = target;
    if (!isHostAllowed(host, this.options.allowedHosts)) {
      this.refuse(client, { host, port, allowed: false, reason: 'host not in the registry allowlist' }, 403);
      return;
    }
    if (!this.allowedPorts.has(port)) {
      this.refuse(client, { host, port, allowed: false, reason: `port ${port} not allowed` }, 403);
      return;
    }
    let addresses: string[];
    try {
      addresses = await (this.options.lookup ?? lookupAll)(host);
    } catch (error) {
      this.refuse(client, { host, port, allowed: false, reason: `cannot resolve: ${(error as Error).message}` }, 502);
      return;
    }
    const forbidden = this.options.allowPrivateAddresses ? [] : addresses.filter((address) => this.isPrivate(address));
    if (addresses.length === 0 || forbidden.length > 0) {
      this.refuse(client, { host, port, allowed: false, reason: `resolves to a private address (${forbidden.join(', ') || 'none'})` }, 403);
      return;
    }
    this.tunnel(client, { host, port, address: addresses[0] }, early);
  }

  private tunnel(client: net.Socket, target: { host: string; port: number; address: string }, early: Buffer): void {
    const decision: ProxyDecision = { host: target.host, port: target.port, allowed: true };
    this.decisions.push(decision);
    const upstream = net.connect({ host: target.address, port: target.port });
    this.track(upstream);
    let established = false;
    const fail = (reason: string, status: number): void => {
      decision.reason = reason;
      this.log(`registry proxy: cannot tunnel to ${target.host}:${target.port}: ${reason}`);
      upstream.destroy();
      this.reply(client, status, reason);
    };
    const connectTimer = setTimeout(() => fail('upstream connect timed out', 504), this.options.connectTimeoutMs ?? 10_000);
    upstream.once('connect', () => {
      clearTimeout(connectTimer);
      established = true;
      this.log(`registry proxy: tunnel to ${target.host}:${target.port}`);
      upstream.setTimeout(this.options.idleTimeoutMs ?? 5 * 60_000, () => upstream.destroy());
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (early.length > 0) upstream.write(early);
      // Half-closes travel through: the end of one side ends the other once it has flushed.
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', (error) => {
      clearTimeout(connectTimer);
      if (established) client.destroy();
      else fail(`upstream: ${error.message}`, 502);
    });
    client.on('close', () => upstream.destroy());
  }

  private refuse(client: net.Socket, decision: ProxyDecision, status: number): void {
    this.decisions.push(decision);
    const target = decision.port === null ? decision.host : `${decision.host}:${decision.port}`;
    this.log(`registry proxy: refused ${JSON.stringify(target)}: ${decision.reason}`);
    this.reply(client, status, decision.reason ?? 'refused');
  }

  private reply(client: net.Socket, status: number, message: string): void {
    if (client.destroyed) return;
    const body = `steward sandbox proxy: ${message}\n`;
    client.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  private isPrivate(address: string): boolean {
    const family = net.isIP(address);
    if (family === 0) return true;
    const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) : null;
    if (mapped) return this.privateAddresses.check(mapped[1], 'ipv4');
    return this.privateAddresses.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

/** Exact names, or `*.suffix` for names strictly below the suffix; case and a trailing dot do not matter. */
export function isHostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  const name = normalizeHost(host);
  if (name === null) return false;
  return allowedHosts.some((entry) => {
    const allowed = entry.trim().toLowerCase().replace(/\.$/, '');
    if (allowed.startsWith('*.')) return name.endsWith(allowed.slice(1)) && name.length > allowed.length - 1;
    return name === allowed;
  });
}

function normalizeHost(host: string): string | null {
  const name = host.trim().toLowerCase().replace(/\.$/, '');
  if (net.isIP(name)) return name;
  return HOST_NAME_PATTERN.test(name) ? name : null;
}

function parseAuthority(authority: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!match) return null;
  const host = normalizeHost(match[1] ?? match[2]);
  const port = Number(match[3]);
  if (host === null || port < 1 || port > 65_535) return null;
  return { host, port };
}

async function lookupAll(host: string): Promise<string[]> {
  if (net.isIP(host)) return [host];
  const results = await dns.promises.lookup(host, { all: true, verbatim: true });
  return results.map((result) => result.address);
}

function privateAddressList(): net.BlockList {
  const list = new net.BlockList();
  for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const) {
    list.addSubnet(network, prefix, 'ipv4');
  }
  list.addAddress('::', 'ipv6');
  list.addAddress('::1', 'ipv6');
  for (const [network, prefix] of [
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const) {
    list.addSubnet(network, prefix, 'ipv6');
  }
  return list;
}

/**
 * Runs inside the sandbox during setup, under the host's node (bound read-only): listens on the
 * sandbox's own loopback, forwards every connection to the proxy's unix socket, and runs the setup
 * command with the proxy variables pointing at it. Listening before the command starts means no
 * race; the command's exit status becomes the forwarder's.
 *
 * Usage: node forwarder.cjs <proxy socket> <command> [args...]
 */
export const SETUP_FORWARDER_SOURCE = `'use strict';
const net = require('node:net');
const os = require('node:os');
const { spawn } = require('node:child_process');
const [socketPath, command, ...args] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  const cut = () => { client.destroy(); upstream.destroy(); };
  client.on('error', cut);
  upstream.on('error', cut);
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(0, '127.0.0.1', () => {
  const proxy = 'http://127.0.0.1:' + server.address().port;
  const env = { ...process.env };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'npm_config_proxy', 'npm_config_https_proxy', 'YARN_HTTP_PROXY', 'YARN_HTTPS_PROXY']) env[name] = proxy;
  for (const name of ['NO_PROXY', 'no_proxy', 'npm_config_noproxy']) delete env[name];
  const child = spawn(command, args, { stdio: 'inherit', env });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => { process.stderr.write('setup: cannot start ' + command + ': ' + error.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] || 0)));
});
`;
