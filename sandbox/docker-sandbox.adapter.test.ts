import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { ensureDockerTier, reportUnavailable } from '../test/support/docker-engine';
import { DockerSandbox } from './docker-sandbox.adapter';
import type { SandboxSpec } from './sandbox.port';

/**
 * Breakout attempts against the docker backend, on a real engine (scripts/ensure-docker.sh starts
 * one where it can, and builds the Debian base image the containers run): each test runs
 * something model-written code could try, and passes only when it fails. The contract every
 * backend shares is in sandbox.contract.ts; the bubblewrap backend's own attempts are beside it.
 */

const tier = ensureDockerTier('base');
const unavailable = reportUnavailable('DockerSandbox breakout tests', tier);
// Skipped, the suite's name says why, beside the line printed above.
const describeIfDocker = (name: string, suite: () => void): void => (unavailable === null ? describe(name, suite) : describe.skip(`${name} (not run: ${unavailable})`, suite));
const image = tier.available ? tier.images.STEWARD_BASE_IMAGE! : 'none';

const MiB = 1024 ** 2;
const IDENTITY = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

/** Reaches a host:port directly, or through the setup proxy with CONNECT; prints one `name=outcome` line. */
const PROBE = `
const http = require('http');
const net = require('net');
const [mode, target, name] = process.argv.slice(2);
const [host, port] = target.split(':');
const done = (outcome) => { console.log(name + '=' + outcome); process.exit(0); };
setTimeout(() => done('timeout'), 4000);
if (mode === 'direct') {
  net.connect(Number(port), host).on('connect', () => done('connected')).on('error', (e) => done(e.code));
} else {
  const proxy = new URL(process.env.HTTPS_PROXY);
  http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target })
    .on('connect', (response, socket) => {
      if (response.statusCode !== 200) return done('refused-' + response.statusCode);
      let text = '';
      socket.on('data', (chunk) => (text += chunk)).on('end', () => done('body-' + text.split('\\r\\n\\r\\n')[1]));
      socket.write('GET /left-pad HTTP/1.1\\r\\nHost: ' + target + '\\r\\nConnection: close\\r\\n\\r\\n');
    })
    .on('error', (e) => done(e.code))
    .end();
}
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' });
}

function processesMatching(pattern: string): string[] {
  return spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.trim() !== '');
}

async function waitUntil(condition: () => boolean, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function uniqueSleep(): string {
  return `${9000 + (process.pid % 1000)}.${randomBytes(3).readUIntBE(0, 3)}`;
}

function containersOf(root: string): string[] {
  return execFileSync('docker', ['ps', '--all', '--filter', `label=steward.sandbox-root=${root}`, '--format', '{{.Names}}'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describeIfDocker('DockerSandbox breakout', () => {
  let scratch: string;
  let source: string;
  let root: string;
  let sandbox: DockerSandbox;
  let hostServer: net.Server;
  let hostServerPort: number;
  let hostConnections = 0;
  let registry: http.Server;
  let registryPort: number;
  const registryRequests: string[] = [];
  const log: string[] = [];
  const opened = new Set<string>();
  let nextId = 0;
  const specFor = (overrides: Partial<SandboxSpec> = {}): SandboxSpec => {
    const spec = { sandboxId: `docker-breakout-${process.pid}-${++nextId}`, repositoryLocation: source, revision: 'main', setupCommand: null, ...overrides };
    opened.add(spec.sandboxId);
    return spec;
  };

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-docker-test-'));
    fs.chmodSync(scratch, 0o711);
    source = path.join(scratch, 'source');
    fs.mkdirSync(source);
    git(source, 'init', '--quiet', '-b', 'main');
    fs.writeFileSync(path.join(source, '.gitignore'), 'node_modules/\n');
    fs.writeFileSync(path.join(source, 'app.js'), 'module.exports = 1;\n');
    fs.writeFileSync(path.join(source, 'probe.js'), PROBE);
    git(source, 'add', '-A');
    git(source, 'commit', '--quiet', '-m', 'first');

    // A service on every host interface, as a database or the Temporal server would be.
    hostServer = net.createServer((socket) => {
      hostConnections++;
      socket.end('host service\n');
    });
    await new Promise<void>((resolve) => hostServer.listen(0, '0.0.0.0', resolve));
    hostServerPort = (hostServer.address() as net.AddressInfo).port;
    // A stand-in package registry on the host's loopback, reachable only through the allowlist proxy.
    registry = http.createServer((request, response) => {
      registryRequests.push(request.url ?? '');
      response.end('registry-ok');
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    registryPort = (registry.address() as net.AddressInfo).port;

    root = path.join(scratch, 'sandboxes');
    sandbox = new DockerSandbox({
      root,
      image,
      log: (line) => log.push(line),
      limits: { memoryBytes: 256 * MiB, processes: 64, diskBytes: 128 * MiB, tmpBytes: 32 * MiB, cpuSeconds: 60 },
      registry: { hosts: ['127.0.0.1'], ports: [registryPort], allowPrivateAddresses: true },
    });
  });

  afterAll(async () => {
    for (const sandboxId of opened) await sandbox.destroy(sandboxId).catch(() => undefined);
    await new Promise<void>((resolve) => hostServer.close(() => resolve()));
    await new Promise<void>((resolve) => registry.close(() => resolve()));
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  describe('network', () => {
    let sandboxId: string;
    beforeAll(async () => {
      sandboxId = (await sandbox.open(specFor())).sandboxId;
    });

    it('has no interface but loopback, and cannot reach a server on the host, on loopback or on its external address', async () => {
      // The server is reachable from the host itself, so a container that shared its network would reach it too.
      const control = await new Promise<string>((resolve, reject) => {
        let received = '';
        net
          .connect(hostServerPort, '127.0.0.1')
          .setEncoding('utf8')
          .on('data', (chunk: string) => (received += chunk))
          .on('end', () => resolve(received))
          .on('error', reject);
      });
      expect(control).toBe('host service\n');
      await waitUntil(() => hostConnections === 1);
      const before = hostConnections;
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
      const result = await sandbox.exec(
        sandboxId,
        [
          "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sed 's/^/interface=/'",
          `node probe.js direct 127.0.0.1:${hostServerPort} loopback`,
          `(exec 3<>/dev/tcp/127.0.0.1/${hostServerPort}) 2>/dev/null; echo "bash-tcp=$?"`,
          external ? `node probe.js direct ${external}:${hostServerPort} external` : 'echo external=ENETUNREACH',
          'ls /run/steward 2>&1',
        ].join('\n'),
        { timeoutMs: 20_000 },
      );
      expect(result.outputTail.match(/^interface=.*$/gm)).toEqual(['interface=lo']);
      expect(result.outputTail).toMatch(/loopback=ECONNREFUSED/);
      expect(result.outputTail).toMatch(/bash-tcp=1/);
      expect(result.outputTail).toMatch(/external=(ENETUNREACH|EHOSTUNREACH|timeout)/);
      expect(result.outputTail).toContain('No such file or directory');
      expect(result.outputTail).not.toContain('host service');
      expect(hostConnections).toBe(before);
    });

    it('during setup, reaches allowlisted registries through the proxy and nothing else', async () => {
      const spec = specFor({
        setupCommand: [
          `node probe.js proxy 127.0.0.1:${registryPort} allowed >> network.log`,
          `node probe.js proxy evil.example:${registryPort} refused >> network.log`,
          `node probe.js direct 127.0.0.1:${registryPort} direct >> network.log`,
          'exit 0',
        ].join('\n'),
      });
      const requestsBefore = registryRequests.length;
      await sandbox.open(spec);
      const network = await sandbox.readFile(spec.sandboxId, 'network.log');
      expect(network).toContain('allowed=body-registry-ok');
      expect(network).toContain('refused=refused-403');
      expect(network).toContain('direct=ECONNREFUSED');
      expect(registryRequests.slice(requestsBefore)).toEqual(['/left-pad']);
      expect(log.some((line) => line.includes('refused') && line.includes(`evil.example:${registryPort}`))).toBe(true);
    });

    it('fails a setup that needs a host outside the allowlist, naming the refusal', async () => {
      const spec = specFor({ setupCommand: `node probe.js proxy evil.example:${registryPort} refused; exit 1` });
      await expect(sandbox.open(spec)).rejects.toMatchObject({
        type: ERROR_TYPES.sandboxUnavailable,
        message: expect.stringContaining(`registry proxy refused: evil.example:${registryPort}`),
      });
    });
  });

  describe('file system and environment', () => {
    let sandboxId: string;
    beforeAll(async () => {
      sandboxId = (await sandbox.open(specFor())).sandboxId;
    });

    it('cannot read files planted in the host home, the worker folder or the sandbox root', async () => {
      const secret = `planted-secret-${randomBytes(8).toString('hex')}`;
      const planted = path.join(os.homedir(), `.steward-breakout-${randomBytes(4).toString('hex')}`);
      fs.writeFileSync(planted, secret, { mode: 0o644 });
      const workerFile = path.join(process.cwd(), `.steward-breakout-${randomBytes(4).toString('hex')}`);
      fs.writeFileSync(workerFile, secret, { mode: 0o644 });
      try {
        const result = await sandbox.exec(
          sandboxId,
          [`cat ${planted}`, 'cat /root/.ssh/id_rsa /root/.aws/credentials /root/.npmrc', `cat ${workerFile}`, `ls ${root}`, 'cat /var/run/docker.sock', 'cat /etc/shadow'].join('; '),
          { timeoutMs: 10_000 },
        );
        expect(result.outputTail).not.toContain(secret);
        // The image's own /root (root's, 0700) stands where the host's home would be: either way the file is out of reach.
        expect(result.outputTail).toMatch(new RegExp(`cat: ${planted.replace(/[.]/g, '\\.')}: (No such file or directory|Permission denied)`));
        expect(result.outputTail).toContain(`cat: ${workerFile}: No such file or directory`);
        expect(result.outputTail).toContain(`ls: cannot access '${root}': No such file or directory`);
        expect(result.outputTail).toContain('cat: /var/run/docker.sock: No such file or directory');
        expect(result.outputTail).toContain('cat: /etc/shadow: Permission denied');
      } finally {
        fs.rmSync(planted, { force: true });
        fs.rmSync(workerFile, { force: true });
      }
    });

    it('sees none of the worker environment, in its own environment or in any process it can see', async () => {
      const secrets = { STEWARD_TEST_SECRET: `s-${randomBytes(8).toString('hex')}`, GITHUB_TOKEN: `ghs_${randomBytes(8).toString('hex')}`, AWS_SECRET_ACCESS_KEY: `a-${randomBytes(8).toString('hex')}` };
      Object.assign(process.env, secrets);
      try {
        const result = await sandbox.exec(sandboxId, "env; echo ---; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f 2>/dev/null; done; echo ---; ps -eo pid,args", {
          timeoutMs: 10_000,
        });
        for (const value of Object.values(secrets)) expect(result.outputTail).not.toContain(value);
        const names = result.outputTail
          .split('---')[0]!
          .trim()
          .split('\n')
          .map((line) => line.split('=')[0]);
        for (const name of names) expect(name).not.toMatch(/TOKEN|SECRET|KEY|DATABASE_URL|TEMPORAL_/);
        // Its own pid namespace: the worker and everything else on the host are invisible.
        expect(result.outputTail).not.toMatch(/jest|dockerd|containerd/);
      } finally {
        for (const name of Object.keys(secrets)) delete process.env[name];
      }
    });

    it('cannot write outside the workspace: the image, the root, the worker folder, .git', async () => {
      const marker = `steward-breakout-${randomBytes(4).toString('hex')}`;
      const gitConfig = fs.readFileSync(path.join(root, sandboxId, 'workspace', '.git', 'config'), 'utf8');
      const result = await sandbox.exec(
        sandboxId,
        [
          `touch /etc/${marker}`,
          `touch /usr/${marker}`,
          `touch /${marker}`,
          `touch /tmp/${marker} && echo private-tmp-ok`,
          `mkdir -p ${process.cwd()}/${marker}`,
          `touch /workspace/../${marker}`,
          'echo "[core]" >> .git/config',
          'echo "#!/bin/sh" > .git/hooks/post-checkout',
          'echo x > /proc/sys/kernel/hostname',
          'echo done',
        ].join('; '),
        { timeoutMs: 10_000 },
      );
      expect(result.outputTail).toContain('done');
      expect(result.outputTail).toContain('private-tmp-ok');
      expect(result.outputTail).toMatch(/\/etc\/steward-breakout-[0-9a-f]+': Read-only file system/);
      // .git is bound read-only, and its files are root's besides.
      expect(result.outputTail).toMatch(/\.git\/config: (Read-only file system|Permission denied)/);
      expect(result.outputTail).toMatch(/\.git\/hooks\/post-checkout: Read-only file system/);
      for (const candidate of [`/etc/${marker}`, `/usr/${marker}`, `/${marker}`, `/tmp/${marker}`, path.join(process.cwd(), marker), path.join(root, sandboxId, marker)]) {
        expect(fs.existsSync(candidate)).toBe(false);
      }
      expect(fs.readFileSync(path.join(root, sandboxId, 'workspace', '.git', 'config'), 'utf8')).toBe(gitConfig);
      expect(fs.existsSync(path.join(root, sandboxId, 'workspace', '.git', 'hooks', 'post-checkout'))).toBe(false);
    });

    it('runs as an unprivileged uid without capabilities and cannot create user namespaces', async () => {
      const result = await sandbox.exec(sandboxId, 'id -u; grep -E "^Cap(Eff|Prm)" /proc/self/status; unshare -U true; echo "unshare=$?"', { timeoutMs: 10_000 });
      expect(result.outputTail).toMatch(/^65534$/m);
      expect(result.outputTail).toMatch(/CapEff:\s+0+$/m);
      expect(result.outputTail).toMatch(/unshare=1/);
    });
  });

  describe('limits', () => {
    let sandboxId: string;
    beforeAll(async () => {
      sandboxId = (await sandbox.open(specFor())).sandboxId;
    });

    it('stops a fork bomb at the process limit and leaves nothing behind', async () => {
      const name = `bomb_${randomBytes(4).toString('hex')}`;
      let most = 0;
      const sampler = setInterval(() => {
        most = Math.max(most, processesMatching(name).length);
      }, 100);
      try {
        const result = await sandbox.exec(sandboxId, `${name}(){ ${name} | ${name} & }; ${name}; sleep 2`, { timeoutMs: 3_000 });
        expect(result.durationMs).toBeLessThan(10_000);
      } finally {
        clearInterval(sampler);
      }
      expect(most).toBeGreaterThanOrEqual(16);
      expect(most).toBeLessThanOrEqual(64);
      expect(await waitUntil(() => processesMatching(name).length === 0)).toBe(true);
      // The container is usable again afterwards.
      expect(await sandbox.exec(sandboxId, 'echo alive', { timeoutMs: 10_000 })).toMatchObject({ exitCode: 0, outputTail: 'alive\n' });
    });

    it('kills a memory hog at the memory limit', async () => {
      const result = await sandbox.exec(sandboxId, "x=$(head -c 600000000 /dev/zero | tr '\\0' a); echo survived ${#x}", { timeoutMs: 30_000 });
      expect(result.timedOut).toBe(false);
      expect(result.outputTail).not.toContain('survived');
      expect(result.exitCode === 137 || result.signal === 'SIGKILL').toBe(true);
    });

    it('kills a sleep past the deadline, with what it daemonised, and reports the timeout', async () => {
      const duration = uniqueSleep();
      const result = await sandbox.exec(sandboxId, `(setsid sleep ${duration} > /dev/null 2>&1 &); nohup sleep ${duration} > /dev/null 2>&1 & sleep ${duration}`, {
        timeoutMs: 500,
      });
      expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
      expect(result.durationMs).toBeLessThan(5_000);
      expect(await waitUntil(() => processesMatching(`sleep ${duration}`).length === 0)).toBe(true);
    });

    it('leaves nothing running once a command that daemonised something exits', async () => {
      const duration = uniqueSleep();
      const result = await sandbox.exec(sandboxId, `(setsid nohup sleep ${duration} > /dev/null 2>&1 &); echo started`, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 0, outputTail: 'started\n' });
      expect(await waitUntil(() => processesMatching(`sleep ${duration}`).length === 0)).toBe(true);
    });

    it('bounds files by the disk limit and /tmp by its size', async () => {
      const result = await sandbox.exec(
        sandboxId,
        ['head -c 200M /dev/zero > big; echo "big=$?"', 'rm -f big', 'head -c 64M /dev/zero > /tmp/big; echo "tmp=$?"', 'rm -f /tmp/big', 'echo after > after.txt; echo "after=$?"'].join('\n'),
        { timeoutMs: 30_000 },
      );
      // RLIMIT_FSIZE stops the one file (SIGXFSZ, 153); the tmpfs's size stops /tmp.
      expect(result.outputTail).toMatch(/big=(1|153)/);
      expect(result.outputTail).toMatch(/tmp=1/);
      expect(result.outputTail).toMatch(/after=0/);
    });
  });

  describe('lifecycle', () => {
    it('destroy kills a running command and removes the container and the workspace', async () => {
      const spec = specFor();
      await sandbox.open(spec);
      const duration = uniqueSleep();
      const running = sandbox.exec(spec.sandboxId, `sleep ${duration}`, { timeoutMs: 60_000 });
      expect(await waitUntil(() => processesMatching(`sleep ${duration}`).length > 0)).toBe(true);
      expect(containersOf(root)).toContain(`steward-sandbox-${spec.sandboxId}`);
      await sandbox.destroy(spec.sandboxId);
      await running.catch(() => undefined);
      expect(await waitUntil(() => processesMatching(`sleep ${duration}`).length === 0)).toBe(true);
      expect(containersOf(root)).not.toContain(`steward-sandbox-${spec.sandboxId}`);
      expect(fs.existsSync(path.join(root, spec.sandboxId))).toBe(false);
    });
  });
});
