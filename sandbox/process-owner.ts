import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Who holds a sandbox, a snapshot lock or a view's lease, recorded so that another process can
 * tell whether the holder is still alive: a crashed worker must not block a snapshot forever, keep
 * a snapshot from garbage collection, or leave its sandboxes behind for good. A pid alone is not
 * enough: pids are reused, and workers in other pid namespaces (containers) sharing a root see
 * different pids, so the start time, host, boot and pid namespace are recorded too.
 *
 * One model for every record the sandbox keeps (sandbox owners, lock files, view leases); records
 * written before it (`startTicks` for the start time, no host) are read as well.
 */
export interface ProcessOwner {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot; differs when the pid was reused. Null without procfs. */
  startTime: string | null;
  host: string | null;
  bootId: string | null;
  pidNamespace: string | null;
}

/** alive: certainly or possibly still running here; dead: certainly gone; unknown: cannot be judged from here (another host or pid namespace). */
export type OwnerState = 'alive' | 'dead' | 'unknown';

export function currentOwner(): ProcessOwner {
  return { pid: process.pid, startTime: processStat(process.pid)?.startTime ?? null, host: os.hostname(), bootId: bootId(), pidNamespace: ownPidNamespace() };
}

/** A recorded owner, whichever format wrote it; null when the record names no process. */
export function parseOwner(value: unknown): ProcessOwner | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.pid !== 'number') return null;
  const text = (field: unknown): string | null => (typeof field === 'string' ? field : null);
  return {
    pid: record.pid,
    startTime: text(record.startTime) ?? text(record.startTicks),
    host: text(record.host),
    bootId: text(record.bootId),
    pidNamespace: text(record.pidNamespace),
  };
}

/**
 * Whether the owner is still there. Only 'dead' may lead anyone to remove what the owner holds:
 * 'unknown' errs on the side of keeping, which at worst delays a clean-up.
 */
export function ownerState(owner: ProcessOwner | null): OwnerState {
  // Signal 0 to pid 0 or -1 would "succeed" for the whole process group or every process.
  if (owner === null || !Number.isInteger(owner.pid) || owner.pid <= 0) return 'dead';
  const boot = bootId();
  const sameHost = owner.host === null || owner.host === os.hostname();
  if (owner.bootId !== null && boot !== null && owner.bootId !== boot) {
    // The same machine booted again, and every process of the old boot is gone; another machine sharing the root cannot be judged.
    return sameHost ? 'dead' : 'unknown';
  }
  // Without a boot id to tell, a host name that differs is another machine.
  if ((owner.bootId === null || boot === null) && !sameHost) return 'unknown';
  const namespace = ownPidNamespace();
  // Another container's worker: its pid means nothing here.
  if (owner.pidNamespace !== null && namespace !== null && owner.pidNamespace !== namespace) return 'unknown';
  if (!isProcessAlive(owner.pid)) return 'dead';
  const stat = processStat(owner.pid);
  return stat === null || owner.startTime === null || owner.startTime === stat.startTime ? 'alive' : 'dead';
}

/** Whether a process of this pid namespace runs under `pid` (a zombie has exited already: it only waits to be reaped). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // No procfs (macOS): the signal is all there is to tell.
  return processStat(pid)?.state !== 'Z';
}

function processStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name in parentheses may itself hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Field 3 of proc_pid_stat(5) is the state, field 22 the start time.
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

function bootId(): string | null {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function ownPidNamespace(): string | null {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}
