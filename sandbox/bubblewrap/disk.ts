import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SandboxLimits } from '../sandbox.port';
import { formatBytes, runTool } from './host-tools';
import { mountsAtOrBelow } from './mounts';

export type DiskStrategy = 'loop' | 'tmpfs' | 'none';

/** Where the sparse images behind loop-mounted sandbox disks live, under the sandbox root. */
export const IMAGES_FOLDER = '.images';

/**
 * Each sandbox's own size-limited file system, holding its workspace and HOME: a loop-mounted
 * ext4 image where loop devices work, else a tmpfs, else none (writes are then bounded per file
 * by RLIMIT_FSIZE only, which the log says).
 */
export class WorkspaceDisks {
  readonly ready: Promise<void>;
  private strategy: DiskStrategy = 'none';

  constructor(
    private readonly limits: SandboxLimits,
    /** A folder of the sandbox root for the probe at start. */
    private readonly runtimeFolder: string,
    private readonly log: (line: string) => void,
    requested: DiskStrategy | 'auto',
  ) {
    this.ready = this.choose(requested);
  }

  /** Picks the strategy, probing for 'auto'; every other method waits for it. */
  private async choose(requested: DiskStrategy | 'auto'): Promise<void> {
    if (requested !== 'auto') {
      this.strategy = requested;
      return;
    }
    const probe = path.join(this.runtimeFolder, `disk-probe-${process.pid}`);
    for (const candidate of ['loop', 'tmpfs'] as const) {
      try {
        this.strategy = candidate;
        await this.prepare(probe, `${probe}.img`, 16 * 1024 ** 2);
        await this.release(probe, `${probe}.img`);
        this.log(`bubblewrap sandbox: workspaces on ${candidate === 'loop' ? 'loop-mounted ext4 images' : 'tmpfs'} of ${formatBytes(this.limits.diskBytes)}`);
        return;
      } catch (error) {
        this.log(`bubblewrap sandbox: ${candidate} workspaces unavailable: ${(error as Error).message}`);
        await this.release(probe, `${probe}.img`).catch(() => undefined);
      }
    }
    this.strategy = 'none';
    this.log('bubblewrap sandbox: WARNING workspace writes are bounded per file (RLIMIT_FSIZE) only');
  }

  /** A fresh, size-limited file system at `folder`: the sandbox's workspace and HOME live in it. */
  async prepare(folder: string, image: string, bytes = this.limits.diskBytes): Promise<void> {
    await fs.promises.mkdir(folder, { recursive: true });
    if (this.strategy === 'loop') {
      await fs.promises.mkdir(path.dirname(image), { recursive: true });
      await fs.promises.rm(image, { force: true });
      // Sparse: the image takes host disk only as the sandbox writes, up to `bytes`.
      const handle = await fs.promises.open(image, 'w', 0o600);
      await handle.truncate(bytes);
      await handle.close();
      await runTool('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', '-E', 'root_owner=0:0', image]);
      // discard: files deleted inside give their space back to the host.
      await runTool('mount', ['-o', 'loop,nosuid,nodev,noatime,discard', image, folder]);
      await fs.promises.rm(path.join(folder, 'lost+found'), { recursive: true, force: true });
    } else if (this.strategy === 'tmpfs') {
      await runTool('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0711,nosuid,nodev`, 'tmpfs', folder]);
    }
    await fs.promises.chmod(folder, 0o711);
  }

  /** After a reboot (or an unmount), mounts a sandbox's image again; false when its file system is gone. */
  async remount(folder: string, image: string): Promise<boolean> {
    if (this.strategy === 'none') return fs.existsSync(folder);
    if ((await mountsAtOrBelow(folder)).includes(folder)) return true;
    if (this.strategy !== 'loop' || !fs.existsSync(image)) return false;
    await runTool('mount', ['-o', 'loop,nosuid,nodev,noatime,discard', image, folder]);
    return true;
  }

  /** Unmounts everything at or below `folder` (views first), then removes it and its image. */
  async release(folder: string, image: string): Promise<void> {
    const mounts = (await mountsAtOrBelow(folder)).sort((a, b) => b.length - a.length);
    for (const mountPoint of mounts) {
      try {
        await runTool('umount', [mountPoint]);
      } catch {
        // Busy: detach it now; the kernel frees it once the last user is gone.
        await runTool('umount', ['-l', mountPoint]);
      }
    }
    await fs.promises.rm(folder, { recursive: true, force: true });
    await fs.promises.rm(image, { force: true });
  }
}
