import * as fs from 'node:fs';
import * as path from 'node:path';
import { isProcessAlive } from '../process-owner';
import type { SandboxLimits } from '../sandbox.port';
import { sleep } from './host-tools';
import { readMountInfo } from './mounts';

export interface ExecCgroup {
  procsFiles: string[];
  report(): Promise<{ processLimitHit: boolean; oomKills: number }>;
  killAll(): Promise<void>;
  destroy(): Promise<void>;
}

export type Controller = 'pids' | 'memory' | 'cpu';

/**
 * Per-command cgroups on a cgroup v1 host: pids.max (a fork bomb stops there without touching
 * other sandboxes), memory.limit_in_bytes (the kernel OOM-kills inside the sandbox, not the worker),
 * and a CPU quota. Created below the worker's own cgroups, so that the sandboxes stay inside
 * whatever limits the worker itself runs under.
 */
export class CgroupV1 {
  private constructor(private readonly parents: Map<Controller, string>) {}

  static detect(log: (line: string) => void): CgroupV1 | null {
    try {
      const ownPaths = new Map<string, string>();
      for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
        const [, controllers, cgroupPath] = line.split(':');
        for (const controller of controllers.split(',')) if (controller) ownPaths.set(controller, cgroupPath);
      }
      const parents = new Map<Controller, string>();
      for (const mount of readMountInfo()) {
        if (mount.fsType !== 'cgroup') continue;
        for (const controller of ['pids', 'memory', 'cpu'] as const) {
          const own = ownPaths.get(controller);
          if (!mount.superOptions.split(',').includes(controller) || own === undefined || parents.has(controller)) continue;
          const relative = mount.root === '/' ? own : path.relative(mount.root, own);
          if (relative.startsWith('..')) continue;
          const parent = path.join(mount.mountPoint, relative, 'steward-sandboxes');
          try {
            fs.mkdirSync(parent, { recursive: true });
            const probe = path.join(parent, `probe-${process.pid}`);
            fs.mkdirSync(probe, { recursive: true });
            fs.rmdirSync(probe);
            parents.set(controller, parent);
          } catch (error) {
            log(`bubblewrap sandbox: cannot create ${controller} cgroups: ${(error as Error).message}`);
          }
        }
      }
      return parents.has('pids') ? new CgroupV1(parents) : null;
    } catch {
      return null;
    }
  }

  controllers(): Controller[] {
    return [...this.parents.keys()];
  }

  has(controller: Controller): boolean {
    return this.parents.has(controller);
  }

  async create(name: string, limits: SandboxLimits): Promise<ExecCgroup> {
    const folders = new Map<Controller, string>();
    const write = (controller: Controller, file: string, value: string | number): Promise<void> =>
      fs.promises.writeFile(path.join(folders.get(controller)!, file), String(value));
    try {
      for (const [controller, parent] of this.parents) {
        const folder = path.join(parent, name);
        await fs.promises.mkdir(folder);
        folders.set(controller, folder);
      }
      await write('pids', 'pids.max', limits.processes);
      if (folders.has('memory')) {
        await write('memory', 'memory.limit_in_bytes', limits.memoryBytes);
        // Without swap accounting the file is absent: then there is no swap to escape into either.
        await write('memory', 'memory.memsw.limit_in_bytes', limits.memoryBytes).catch(() => undefined);
      }
      if (folders.has('cpu') && limits.cpus !== null) {
        const period = Number(await fs.promises.readFile(path.join(folders.get('cpu')!, 'cpu.cfs_period_us'), 'utf8'));
        await write('cpu', 'cpu.cfs_quota_us', Math.max(1000, Math.round(limits.cpus * period)));
      }
    } catch (error) {
      await removeCgroups([...folders.values()]);
      throw error;
    }
    const pidsFolder = folders.get('pids')!;
    return {
      procsFiles: [...folders.values()].map((folder) => path.join(folder, 'cgroup.procs')),
      report: async () => {
        const events = await fs.promises.readFile(path.join(pidsFolder, 'pids.events'), 'utf8').catch(() => '');
        const oom = folders.has('memory') ? await fs.promises.readFile(path.join(folders.get('memory')!, 'memory.oom_control'), 'utf8').catch(() => '') : '';
        return {
          processLimitHit: Number(/^max (\d+)/m.exec(events)?.[1] ?? 0) > 0,
          oomKills: Number(/^oom_kill (\d+)/m.exec(oom)?.[1] ?? 0),
        };
      },
      killAll: () => killCgroup(pidsFolder),
      destroy: async () => {
        await killCgroup(pidsFolder);
        await removeCgroups([...folders.values()]);
      },
    };
  }

  /** Per-command cgroups whose worker is gone: whatever is left in them is killed. */
  async sweep(): Promise<void> {
    for (const parent of this.parents.values()) {
      const entries = await fs.promises.readdir(parent).catch(() => [] as string[]);
      for (const entry of entries) {
        const pid = /^(?:probe-)?(\d+)[.]?/.exec(entry)?.[1];
        if (pid === undefined || isProcessAlive(Number(pid))) continue;
        await killCgroup(path.join(parent, entry));
        await removeCgroups([path.join(parent, entry)]);
      }
    }
  }
}

async function killCgroup(folder: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = (await fs.promises.readFile(path.join(folder, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(20);
  }
}

async function removeCgroups(folders: string[]): Promise<void> {
  for (const folder of folders) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await fs.promises.rmdir(folder);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt === 49) throw error;
        await sleep(20);
      }
    }
  }
}
