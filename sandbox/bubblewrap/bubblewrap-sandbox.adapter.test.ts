import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { BubblewrapSandbox, bubblewrapAvailability, DEFAULT_SANDBOX_USER, type SandboxSnapshots } from './bubblewrap-sandbox.adapter';
import { SnapshotStore } from '../snapshots/snapshot-store';
import type { SandboxSpec } from '../sandbox.port';
import type { SetupRunner, Snapshot, SnapshotAcquisition, SnapshotSpec, WorkspaceView } from '../snapshots/snapshot-store.port';

/**
 * Breakout attempts: each test runs something model-written code could try, and passes only when
 * it fails. The contract every backend shares is in sandbox.contract.ts.
 */

const availability = bubblewrapAvailability();
const describeIfBubblewrap = availability === true ? describe : describe.skip;
if (availability !== true) console.log(`BubblewrapSandbox tests not run: ${availability}`);

const MiB = 1024 ** 2;
const IDENTITY = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };
/** A uid of its own for the adapter without cgroups: RLIMIT_NPROC counts every process of the uid on the host. */
const RLIMIT_ONLY_UID = 61_234;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' });
}

function processesMatching(pattern: string, options: string[] = ['-f']): string[] {
  return spawnSync('pgrep', [...options, pattern], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.trim() !== '');
}

async function waitUntil(condition: () => boolean, withinMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function isMounted(folder: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === folder);
}

function uniqueSleep(): string {
  return `${8000 + (process.pid % 1000)}.${randomBytes(3).readUIntBE(0, 3)}`;
}

describeIfBubblewrap('BubblewrapSandbox', () => {
  let scratch: string;
  let source: string;
  let root: string;
  let sandbox: BubblewrapSandbox;
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
    const spec = { sandboxId: `breakout-${++nextId}`, repositoryLocation: source, revision: 'main', setupCommand: null, ...overrides };
    opened.add(spec.sandboxId);
    return spec;
  };

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bwrap-test-'));
    fs.chmodSync(scratch, 0o711);
    source = path.join(scratch, 'source');
    fs.mkdirSync(source);
    git(source, 'init', '--quiet', '-b', 'main');
    fs.writeFileSync(path.join(source, '.gitignore'), 'node_modules/\n');
    fs.writeFileSync(path.join(source, 'app.js'), 'module.exports = 1;\n');
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
    sandbox = new BubblewrapSandbox({
      root,
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

    it('cannot reach a server listening on the host, on loopback or on its external address', async () => {
      // The server is reachable from the host itself, so a sandbox that shared the network would reach it too.
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
          `curl -sS --max-time 3 http://127.0.0.1:${hostServerPort}/; echo "loopback=$?"`,
          `(exec 3<>/dev/tcp/127.0.0.1/${hostServerPort}) 2>/dev/null; echo "bash-tcp=$?"`,
          external ? `curl -sS --max-time 3 http://${external}:${hostServerPort}/; echo "external=$?"` : 'echo external=7',
          `curl -sS --max-time 3 -x http://127.0.0.1:3128 https://registry.npmjs.org/; echo "proxy=$?"`,
          'ls /run/steward 2>&1',
        ].join('\n'),
        { timeoutMs: 20_000 },
      );
      expect(result.outputTail).toMatch(/loopback=7/);
      expect(result.outputTail).toMatch(/bash-tcp=1/);
      expect(result.outputTail).toMatch(/external=7/);
      expect(result.outputTail).toMatch(/proxy=7/);
      expect(result.outputTail).not.toContain('host service');
      expect(hostConnections).toBe(before);
    });

    it('during setup, reaches allowlisted registries through the proxy and nothing else', async () => {
      const spec = specFor({
        setupCommand: [
          `curl -sS -p -x "$HTTPS_PROXY" http://127.0.0.1:${registryPort}/left-pad -o allowed.txt; echo "allowed=$?" >> network.log`,
          `curl -sS -p -x "$HTTPS_PROXY" -o /dev/null -w 'connect=%{http_connect} ' http://evil.example:${registryPort}/ >> network.log; echo "refused=$?" >> network.log`,
          `curl -sS --noproxy '*' --max-time 3 http://127.0.0.1:${registryPort}/direct; echo "direct=$?" >> network.log`,
          'exit 0',
        ].join('\n'),
      });
      const requestsBefore = registryRequests.length;
      await sandbox.open(spec);
      expect(await sandbox.readFile(spec.sandboxId, 'allowed.txt')).toBe('registry-ok');
      const network = await sandbox.readFile(spec.sandboxId, 'network.log');
      expect(network).toContain('allowed=0');
      expect(network).toMatch(/connect=403 refused=56/);
      expect(network).toContain('direct=7');
      expect(registryRequests.slice(requestsBefore)).toEqual(['/left-pad']);
      expect(log.some((line) => line.includes('refused') && line.includes(`evil.example:${registryPort}`))).toBe(true);
    });

    it('fails a setup that needs a host outside the allowlist, naming the refusal', async () => {
      const spec = specFor({ setupCommand: `curl -sSf -p -x "$HTTPS_PROXY" http://evil.example:${registryPort}/` });
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
          [`cat ${planted}`, `ls -a ${os.homedir()}`, 'cat /root/.ssh/id_rsa /root/.aws/credentials /root/.npmrc', `cat ${workerFile}`, `ls ${root}`, 'ls /home', 'cat /etc/shadow'].join(
            '; ',
          ),
          { timeoutMs: 10_000 },
        );
        expect(result.outputTail).not.toContain(secret);
        expect(result.outputTail).toContain(`cat: ${planted}: No such file or directory`);
        expect(result.outputTail).toContain(`cat: ${workerFile}: No such file or directory`);
        expect(result.outputTail).toContain(`ls: cannot access '${root}': No such file or directory`);
        expect(result.outputTail).toContain('cat: /etc/shadow: Permission denied');
        expect(result.outputTail.match(/^sandbox$/m)).not.toBeNull();
      } finally {
        fs.rmSync(planted, { force: true });
        fs.rmSync(workerFile, { force: true });
      }
    });

    it('sees none of the worker environment, in its own environment or in any process it can see', async () => {
      const secrets = { STEWARD_TEST_SECRET: `s-${randomBytes(8).toString('hex')}`, GITHUB_TOKEN: `ghs_${randomBytes(8).toString('hex')}`, AWS_SECRET_ACCESS_KEY: `a-${randomBytes(8).toString('hex')}` };
      Object.assign(process.env, secrets);
      try {
        const result = await sandbox.exec(sandboxId, "env; echo ---; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done; echo ---; ps -eo pid,args", {
          timeoutMs: 10_000,
        });
        for (const value of Object.values(secrets)) expect(result.outputTail).not.toContain(value);
        const names = result.outputTail
          .split('---')[0]
          .trim()
          .split('\n')
          .map((line) => line.split('=')[0]);
        expect(new Set(names)).toEqual(new Set(['PATH', 'HOME', 'LANG', 'TMPDIR', 'CI', 'PWD', 'SHLVL', '_']));
        // Its own pid namespace: the worker and everything else on the host are invisible.
        expect(result.outputTail).not.toMatch(/node|jest/);
      } finally {
        for (const name of Object.keys(secrets)) delete process.env[name];
      }
    });

    it('cannot write outside the workspace: the host system, host /tmp, the worker folder, .git', async () => {
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
          `touch /home/${marker}`,
          'echo "[core]" >> .git/config',
          'echo "#!/bin/sh" > .git/hooks/post-checkout',
          `echo x > /proc/sys/kernel/hostname`,
          'echo done',
        ].join('; '),
        { timeoutMs: 10_000 },
      );
      expect(result.outputTail).toContain('done');
      expect(result.outputTail).toContain('private-tmp-ok');
      expect(result.outputTail).toMatch(/\.git\/config: Read-only file system/);
      for (const candidate of [`/etc/${marker}`, `/usr/${marker}`, `/${marker}`, `/tmp/${marker}`, path.join(process.cwd(), marker), path.join(root, sandboxId, marker)]) {
        expect(fs.existsSync(candidate)).toBe(false);
      }
      expect(fs.readFileSync(path.join(root, sandboxId, 'workspace', '.git', 'config'), 'utf8')).toBe(gitConfig);
      expect(fs.existsSync(path.join(root, sandboxId, 'workspace', '.git', 'hooks', 'post-checkout'))).toBe(false);
    });

    it('mounts extra toolchain folders read-only, with hidden paths inside them masked', async () => {
      const toolchain = path.join(scratch, 'toolchain');
      fs.mkdirSync(path.join(toolchain, 'bin'), { recursive: true });
      fs.mkdirSync(path.join(toolchain, 'secrets'));
      fs.writeFileSync(path.join(toolchain, 'bin', 'tool'), 'public tool\n');
      fs.writeFileSync(path.join(toolchain, 'secrets', 'key'), 'hidden-key\n');
      fs.writeFileSync(path.join(toolchain, 'token.env'), 'TOKEN=hidden-token\n');
      const masked = new BubblewrapSandbox({
        root: path.join(scratch, 'masked'),
        readOnlyPaths: [toolchain],
        hiddenPaths: [path.join(toolchain, 'secrets'), path.join(toolchain, 'token.env')],
        limits: { diskBytes: 64 * MiB },
      });
      await masked.open({ sandboxId: 'masked', repositoryLocation: source, revision: 'main', setupCommand: null });
      try {
        const result = await masked.exec('masked', `cat ${toolchain}/bin/tool; ls -A ${toolchain}/secrets; cat ${toolchain}/token.env; touch ${toolchain}/bin/x`, { timeoutMs: 10_000 });
        expect(result.outputTail).toContain('public tool');
        expect(result.outputTail).not.toContain('hidden-');
        expect(result.outputTail).toContain('Read-only file system');
      } finally {
        await masked.destroy('masked');
      }
    });

    it('refuses a root the sandbox uid could not reach, naming the folder', () => {
      const closed = fs.mkdtempSync(path.join(scratch, 'closed-'));
      fs.chmodSync(closed, 0o700);
      expect(() => new BubblewrapSandbox({ root: path.join(closed, 'sandboxes') })).toThrow(`${closed} has mode 700`);
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

    it('stops a fork bomb at the process limit, reports it, and leaves nothing behind', async () => {
      const name = `bomb_${randomBytes(4).toString('hex')}`;
      let most = 0;
      const sampler = setInterval(() => {
        most = Math.max(most, processesMatching(name).length);
      }, 100);
      try {
        const result = await sandbox.exec(sandboxId, `${name}(){ ${name} | ${name} & }; ${name}; sleep 2`, { timeoutMs: 3_000 });
        expect(result.outputTail).toContain('[sandbox] process limit reached: at most 64 processes');
        expect(result.durationMs).toBeLessThan(10_000);
      } finally {
        clearInterval(sampler);
      }
      expect(most).toBeGreaterThanOrEqual(32);
      expect(most).toBeLessThanOrEqual(64);
      expect(await waitUntil(() => processesMatching(name).length === 0)).toBe(true);
    });

    it('kills a memory hog at the memory limit and reports it', async () => {
      const result = await sandbox.exec(sandboxId, "x=$(head -c 600000000 /dev/zero | tr '\\0' a); echo survived ${#x}", { timeoutMs: 30_000 });
      expect(result.timedOut).toBe(false);
      expect(result.exitCode).toBe(137);
      expect(result.outputTail).not.toContain('survived');
      expect(result.outputTail).toContain('[sandbox] memory limit reached');
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

    it('bounds workspace writes by the sandbox disk and /tmp by its size, without using the host disk', async () => {
      const result = await sandbox.exec(
        sandboxId,
        [
          'head -c 200M /dev/zero > big; echo "big=$?"',
          'rm -f big',
          'head -c 64M /dev/zero > /tmp/big; echo "tmp=$?"',
          'rm -f /tmp/big',
          'echo after > after.txt; echo "after=$?"',
        ].join('\n'),
        { timeoutMs: 30_000 },
      );
      expect(result.outputTail).toContain('No space left on device');
      expect(result.outputTail).toMatch(/big=1/);
      expect(result.outputTail).toMatch(/tmp=1/);
      expect(result.outputTail).toMatch(/after=0/);
      const image = fs.statSync(path.join(root, '.images', `${sandboxId}.img`));
      expect(image.blocks * 512).toBeLessThanOrEqual(128 * MiB);
    });
  });

  describe('without cgroups: rlimits alone, on a tmpfs workspace', () => {
    let limited: BubblewrapSandbox;
    let sandboxId: string;
    beforeAll(async () => {
      limited = new BubblewrapSandbox({
        root: path.join(scratch, 'rlimits-only'),
        uid: RLIMIT_ONLY_UID,
        cgroups: 'off',
        disk: 'tmpfs',
        limits: { memoryBytes: 256 * MiB, processes: 48, diskBytes: 64 * MiB, tmpBytes: 16 * MiB, cpuSeconds: 1 },
      });
      sandboxId = (await limited.open({ sandboxId: 'rlimits', repositoryLocation: source, revision: 'main', setupCommand: null })).sandboxId;
    });
    afterAll(async () => {
      await limited.destroy('rlimits');
    });

    it('stops a fork bomb at RLIMIT_NPROC, which applies because the uid is not root', async () => {
      const name = `bomb_${randomBytes(4).toString('hex')}`;
      let most = 0;
      const sampler = setInterval(() => {
        most = Math.max(most, processesMatching(String(RLIMIT_ONLY_UID), ['-u']).length);
      }, 100);
      try {
        const result = await limited.exec(sandboxId, `${name}(){ ${name} | ${name} & }; ${name}; sleep 2`, { timeoutMs: 3_000 });
        expect(result.outputTail).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
      } finally {
        clearInterval(sampler);
      }
      // The bomb ran (it filled the allowance) and never exceeded it.
      expect(most).toBeGreaterThanOrEqual(24);
      expect(most).toBeLessThanOrEqual(48);
      expect(await waitUntil(() => processesMatching(String(RLIMIT_ONLY_UID), ['-u']).length === 0)).toBe(true);
    });

    it('stops a memory hog at RLIMIT_AS', async () => {
      const result = await limited.exec(sandboxId, "x=$(head -c 600000000 /dev/zero | tr '\\0' a); echo survived ${#x}", { timeoutMs: 30_000 });
      expect(result.timedOut).toBe(false);
      expect(result.exitCode).not.toBe(0);
      expect(result.outputTail).not.toContain('survived');
    });

    it('kills a busy loop at the CPU time limit and says so', async () => {
      const result = await limited.exec(sandboxId, 'while :; do :; done', { timeoutMs: 20_000 });
      expect(result).toMatchObject({ timedOut: false, exitCode: 152 });
      expect(result.outputTail).toContain('[sandbox] a process was killed by SIGXCPU');
    });

    it('keeps the workspace on a size-limited tmpfs', async () => {
      const result = await limited.exec(sandboxId, 'head -c 100M /dev/zero > big; echo "big=$?"; rm -f big', { timeoutMs: 30_000 });
      expect(result.outputTail).toMatch(/big=1/);
      expect(isMounted(path.join(scratch, 'rlimits-only', 'rlimits'))).toBe(true);
    });
  });

  describe('lifecycle', () => {
    it('destroy kills a running command and removes its mount, image and cgroups', async () => {
      const { sandboxId } = await sandbox.open(specFor());
      const duration = uniqueSleep();
      let started: () => void = () => undefined;
      const running = new Promise<void>((resolve) => (started = resolve));
      const execution = sandbox.exec(sandboxId, `echo started; sleep ${duration}`, {
        timeoutMs: 60_000,
        onOutput: (chunk) => chunk.includes('started') && started(),
      });
      await running;
      await sandbox.destroy(sandboxId);
      expect(await execution).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false });
      expect(await waitUntil(() => processesMatching(`sleep ${duration}`).length === 0)).toBe(true);
      expect(isMounted(path.join(root, sandboxId))).toBe(false);
      expect(fs.existsSync(path.join(root, sandboxId))).toBe(false);
      expect(fs.existsSync(path.join(root, '.images', `${sandboxId}.img`))).toBe(false);
      expect(fs.readdirSync('/sys/fs/cgroup/pids/steward-sandboxes').filter((entry) => entry.startsWith(`${process.pid}.${sandboxId}.`))).toEqual([]);
    });

    it('leaves nothing running when the worker dies, and the next worker sweeps what it left', async () => {
      const orphanRoot = path.join(scratch, 'orphans');
      const duration = uniqueSleep();
      const script = path.join(scratch, 'dying-worker.ts');
      fs.writeFileSync(
        script,
        `import { BubblewrapSandbox } from ${JSON.stringify(path.resolve(__dirname, 'bubblewrap-sandbox.adapter'))};
const sandbox = new BubblewrapSandbox({ root: ${JSON.stringify(orphanRoot)}, limits: { diskBytes: 64 * 1024 * 1024 } });
void sandbox
  .open({ sandboxId: 'orphan', repositoryLocation: ${JSON.stringify(source)}, revision: 'main', setupCommand: null })
  .then(() => sandbox.exec('orphan', 'echo started; sleep ${duration}', { timeoutMs: 600000, onOutput: (chunk) => { if (chunk.includes('started')) console.log('started'); } }));
`,
      );
      // One node process (not the tsx launcher, which would outlive nothing but relay signals): killing it is the worker dying.
      const worker = spawn(process.execPath, ['--import', 'tsx', script], { cwd: path.resolve(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
      const workerPid = worker.pid!;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the worker never started its command')), 30_000);
        worker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          if (chunk.includes('started')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(processesMatching(`sleep ${duration}`).length).toBeGreaterThan(0);

      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
      expect(await waitUntil(() => processesMatching(`sleep ${duration}`).length === 0)).toBe(true);
      // The dead worker could not clean up: its workspace is still mounted until someone sweeps.
      expect(isMounted(path.join(orphanRoot, 'orphan'))).toBe(true);

      const next = new BubblewrapSandbox({ root: orphanRoot, sweepOrphansOnStart: false, limits: { diskBytes: 64 * MiB } });
      await next.open({ sandboxId: 'alive', repositoryLocation: source, revision: 'main', setupCommand: null });
      expect(await next.sweepOrphans()).toEqual(['orphan']);
      expect(isMounted(path.join(orphanRoot, 'orphan'))).toBe(false);
      expect(fs.existsSync(path.join(orphanRoot, 'orphan'))).toBe(false);
      expect(fs.existsSync(path.join(orphanRoot, '.images', 'orphan.img'))).toBe(false);
      expect(fs.readdirSync('/sys/fs/cgroup/pids/steward-sandboxes').filter((entry) => entry.startsWith(`${workerPid}.`))).toEqual([]);
      // A sandbox whose owner is alive stays.
      expect((await next.exec('alive', 'cat app.js', { timeoutMs: 10_000 })).outputTail).toBe('module.exports = 1;\n');
      await next.destroy('alive');
    });
  });

  describe('snapshots', () => {
    let store: OverlayTestStore;
    let snapshotted: BubblewrapSandbox;
    const setupCommand = 'mkdir -p node_modules && pwd > node_modules/setup-pwd && id -u > node_modules/setup-uid && echo "${HTTPS_PROXY:+proxied}" > node_modules/proxy';

    beforeAll(() => {
      store = new OverlayTestStore(path.join(scratch, 'snapshot-store'));
      snapshotted = new BubblewrapSandbox({ root: path.join(scratch, 'snapshot-sandboxes'), snapshots: store, limits: { diskBytes: 128 * MiB } });
    });
    afterAll(async () => {
      for (const sandboxId of ['view-1', 'view-2', 'view-plain']) await snapshotted.destroy(sandboxId);
    });

    it('starts from a view of one snapshot, set up once at /workspace as the sandbox uid with registry access', async () => {
      const first = await snapshotted.open({ sandboxId: 'view-1', repositoryLocation: source, revision: 'main', setupCommand });
      const second = await snapshotted.open({ sandboxId: 'view-2', repositoryLocation: source, revision: 'main', setupCommand });
      expect(first.start).toMatchObject({ kind: 'snapshot', snapshotHit: false, viewMode: 'overlayfs' });
      expect(second.start).toMatchObject({ kind: 'snapshot', snapshotHit: true, snapshotKey: first.start!.snapshotKey });
      expect(second.start!.readyMs).toBeGreaterThanOrEqual(0);
      expect(store.builds).toBe(1);
      expect(await snapshotted.readFile('view-2', 'node_modules/setup-pwd')).toBe('/workspace\n');
      expect(await snapshotted.readFile('view-2', 'node_modules/setup-uid')).toBe('65534\n');
      expect(await snapshotted.readFile('view-2', 'node_modules/proxy')).toBe('proxied\n');
    });

    it('lets commands change the view without touching the snapshot or the other views', async () => {
      const result = await snapshotted.exec('view-2', 'echo edited >> app.js && echo more >> node_modules/setup-pwd && touch new.js && echo ok', { timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 0, outputTail: 'ok\n' });
      const diff = await snapshotted.diff('view-2');
      expect(diff).toContain('+edited');
      expect(diff).toContain('b/new.js');
      expect(diff).not.toContain('node_modules');
      expect(await snapshotted.readFile('view-1', 'app.js')).toBe('module.exports = 1;\n');
      expect(fs.readFileSync(path.join(store.lastSnapshot!.directory, 'app.js'), 'utf8')).toBe('module.exports = 1;\n');
      expect(fs.readFileSync(path.join(store.lastSnapshot!.directory, 'node_modules', 'setup-pwd'), 'utf8')).toBe('/workspace\n');
    });

    it('resets by recreating the view: every change is gone, installed dependencies are back', async () => {
      await snapshotted.reset('view-2');
      expect(await snapshotted.readFile('view-2', 'app.js')).toBe('module.exports = 1;\n');
      expect(await snapshotted.readFile('view-2', 'node_modules/setup-pwd')).toBe('/workspace\n');
      await expect(snapshotted.readFile('view-2', 'new.js')).rejects.toThrow();
      expect(await snapshotted.diff('view-2')).toBe('');
      const reopened = await snapshotted.open({ sandboxId: 'view-2', repositoryLocation: source, revision: 'main', setupCommand });
      expect(reopened).toMatchObject({ created: false, start: { kind: 'reused' } });
    });

    it("bounds what a sandbox writes through a view of the real store by the sandbox's own disk", async () => {
      const realStore = new SnapshotStore({ root: path.join(scratch, 'real-snapshot-store'), mountPoint: '/workspace', owner: DEFAULT_SANDBOX_USER });
      const bounded = new BubblewrapSandbox({ root: path.join(scratch, 'real-store-sandboxes'), snapshots: realStore, limits: { diskBytes: 64 * MiB } });
      try {
        const handle = await bounded.open({ sandboxId: 'bounded', repositoryLocation: source, revision: 'main', setupCommand });
        expect(handle.start).toMatchObject({ kind: 'snapshot', viewMode: 'overlayfs' });
        const result = await bounded.exec('bounded', 'head -c 200M /dev/zero > big; echo "big=$?"; rm -f big; echo after > after.txt; echo "after=$?"', { timeoutMs: 30_000 });
        expect(result.outputTail).toContain('No space left on device');
        expect(result.outputTail).toMatch(/big=1/);
        expect(result.outputTail).toMatch(/after=0/);
        // Nothing of it reached the store's disk.
        const storeBytes = Number(execFileSync('du', ['-sb', path.join(scratch, 'real-snapshot-store')], { encoding: 'utf8' }).split('\t')[0]);
        expect(storeBytes).toBeLessThan(16 * MiB);
      } finally {
        await bounded.destroy('bounded');
      }
    });

    it('makes a snapshot without setup (owned by root) writable for the sandbox uid', async () => {
      await snapshotted.open({ sandboxId: 'view-plain', repositoryLocation: source, revision: 'main', setupCommand: null });
      const result = await snapshotted.exec('view-plain', 'echo edited >> app.js && echo ok', { timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 0, outputTail: 'ok\n' });
      expect(fs.statSync(path.join(store.lastSnapshot!.directory, 'app.js')).uid).toBe(0);
    });
  });
});

/**
 * A minimal snapshot store for these tests (the real one is sandbox/snapshots): one clone per spec,
 * set up through the runner it is given, and overlay views whose writable layer sits beside the
 * view, on the sandbox's own size-limited file system.
 */
class OverlayTestStore implements SandboxSnapshots {
  builds = 0;
  lastSnapshot: Snapshot | null = null;
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  }

  async acquire(spec: SnapshotSpec, runSetup: SetupRunner): Promise<SnapshotAcquisition> {
    const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    const existing = this.snapshots.get(key);
    if (existing) {
      this.lastSnapshot = existing;
      return { snapshot: existing, hit: true, buildMs: 0 };
    }
    const started = Date.now();
    const directory = path.join(this.root, key.slice(0, 16), 'tree');
    fs.mkdirSync(path.dirname(directory), { recursive: true });
    git(path.dirname(directory), 'clone', '--quiet', '--no-hardlinks', spec.repositoryLocation, directory);
    const commit = git(directory, 'rev-parse', `${spec.revision}^{commit}`).trim();
    git(directory, 'checkout', '--quiet', '--detach', commit);
    if (spec.setupCommand !== null) {
      const setup = await runSetup({ directory, mountPoint: '/workspace', command: spec.setupCommand, timeoutMs: 60_000 });
      if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.outputTail}`);
    }
    this.builds++;
    const snapshot: Snapshot = {
      key,
      repositoryLocation: spec.repositoryLocation,
      commit,
      lockfileHash: 'none',
      directory,
      builtAt: new Date().toISOString(),
      mountPoint: '/workspace',
    };
    this.snapshots.set(key, snapshot);
    this.lastSnapshot = snapshot;
    return { snapshot, hit: false, buildMs: Date.now() - started };
  }

  async createView(snapshot: Snapshot, directory: string): Promise<WorkspaceView> {
    const started = Date.now();
    const { upper, work } = this.layers(directory);
    for (const folder of [directory, upper, work]) fs.mkdirSync(folder, { recursive: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${snapshot.directory},upperdir=${upper},workdir=${work}`, directory]);
    return { directory, mode: 'overlayfs', readyMs: Date.now() - started };
  }

  async removeView(directory: string): Promise<void> {
    if (isMounted(directory)) execFileSync('umount', [directory]);
    const { upper, work } = this.layers(directory);
    for (const folder of [directory, upper, work]) fs.rmSync(folder, { recursive: true, force: true });
  }

  private layers(directory: string): { upper: string; work: string } {
    return { upper: path.join(path.dirname(directory), '.view-upper'), work: path.join(path.dirname(directory), '.view-work') };
  }
}
