import type { SandboxLimits } from '../sandbox.port';
import type { SetupNetwork } from '../setup-network';
import { SANDBOX_HOME, type SystemMounts } from './mounts';

/**
 * The command line one sandboxed command starts with, as one exec chain so that no process exists
 * outside its limits:
 *   sh (root)        writes its own pid into the exec's cgroups (when cgroups can be created here)
 *   prlimit          sets RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_CORE (and RLIMIT_AS without a memory cgroup)
 *   setpriv          drops to the sandbox uid/gid: no capabilities, no supplementary groups, no_new_privs;
 *                    as a real unprivileged uid, RLIMIT_NPROC applies (root would bypass it)
 *   bwrap            unprivileged, --die-with-parent: when the worker dies, bwrap and with it the
 *                    sandbox's pid 1 die, and the kernel kills the whole pid namespace
 */

export interface Bind {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface RunRequest {
  /** Names the command's cgroups: a sandbox id or a purpose. */
  label: string;
  command: string;
  binds: Bind[];
  workdir: string;
  /** Only the setup phase: registry access through the allowlist proxy. */
  network: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Collect stdout whole (not in the tail) and keep stderr apart: for the adapter's own git commands. */
  captureStdout?: boolean;
  extraEnv?: Record<string, string>;
  /** Called with a kill for the running command; returns its deregistration. */
  registerKill?: (kill: () => void) => () => void;
}

export interface IsolationSettings {
  uid: number;
  gid: number;
  limits: SandboxLimits;
  bwrapPath: string;
  systemMounts: SystemMounts;
  /** A pids cgroup per command does the per-sandbox process limit; RLIMIT_NPROC is then only the backstop. */
  pidsCgroup: boolean;
  /** A memory cgroup per command; without one, memory is limited as address space. */
  memoryCgroup: boolean;
}

/** Where the setup phase's forwarder, node and proxy socket appear inside the sandbox. */
export const RUNTIME_MOUNT = '/run/steward';
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Writes its own pid into each cgroup file given before `--`, then becomes the rest of its arguments. */
const LAUNCHER_SCRIPT = 'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do echo "$$" > "$1" || exit 125; shift; done; shift; exec "$@"';

/** The arguments of /bin/sh (run as root) that start `request` under every limit, in cgroups whose `cgroup.procs` files are given. */
export function isolationCommandLine(settings: IsolationSettings, request: RunRequest, network: SetupNetwork | null, procsFiles: string[]): string[] {
  const bash = request.captureStdout ? ['/bin/bash', '-c', request.command] : ['/bin/bash', '-c', `exec 2>&1\n${request.command}`];
  const inner = network ? [`${RUNTIME_MOUNT}/node`, `${RUNTIME_MOUNT}/forwarder.cjs`, `${RUNTIME_MOUNT}/proxy.sock`, ...bash] : bash;
  return [
    '-c',
    LAUNCHER_SCRIPT,
    'steward-sandbox',
    ...procsFiles,
    '--',
    ...rlimitArguments(settings),
    ...dropPrivilegesArguments(settings),
    settings.bwrapPath,
    ...bwrapArguments(settings, request, network),
    '--',
    ...inner,
  ];
}

function rlimitArguments(settings: IsolationSettings): string[] {
const { cpuSeconds, processes, diskBytes, memoryBytes } = settings.limits;
  // RLIMIT_NPROC counts every process of the uid on the host, other sandboxes' too: with a pids
  // cgroup per command doing the per-sandbox limit, it is only the backstop, set above it.
  const nproc = settings.pidsCgroup ? processes * 2 : processes;
  const args = ['prlimit', `--nproc=${nproc}`, `--cpu=${cpuSeconds}:${cpuSeconds + 5}`, `--fsize=${diskBytes}`, '--core=0'];
  // Address space is a poor proxy for memory (runtimes reserve far more than they use), so only without a memory cgroup.
  if (!settings.memoryCgroup) args.push(`--as=${memoryBytes}`);
  return [...args, '--'];
}

function dropPrivilegesArguments(settings: IsolationSettings): string[] {
return ['setpriv', `--reuid=${settings.uid}`, `--regid=${settings.gid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--'];
}

function bwrapArguments(settings: IsolationSettings, request: RunRequest, network: SetupNetwork | null): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    // No nested user namespaces: they are the kernel's largest attack surface for an unprivileged process.
    '--disable-userns',
    '--die-with-parent',
    // Its own session: no way to push input into a terminal of the worker (TIOCSTI).
    '--new-session',
    '--uid',
    String(settings.uid),
    '--gid',
    String(settings.gid),
    '--hostname',
    'sandbox',
    ...settings.systemMounts.system,
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--size',
    String(settings.limits.tmpBytes),
    '--tmpfs',
    '/tmp',
    '--size',
    String(settings.limits.tmpBytes),
    '--tmpfs',
    '/dev/shm',
    '--symlink',
    '../tmp',
    '/var/tmp',
    // After /tmp: an extra folder may well live below it.
    ...settings.systemMounts.extra,
  ];
  for (const bind of request.binds) args.push(bind.readOnly ? '--ro-bind' : '--bind', bind.source, bind.target);
  if (network) {
    // The worker's own node runs the forwarder, wherever it is installed.
    args.push('--ro-bind', process.execPath, `${RUNTIME_MOUNT}/node`);
    args.push('--ro-bind', network.forwarderPath, `${RUNTIME_MOUNT}/forwarder.cjs`);
    args.push('--bind', network.socketPath, `${RUNTIME_MOUNT}/proxy.sock`);
  }
  args.push('--chdir', request.workdir, '--remount-ro', '/', '--clearenv');
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    HOME: SANDBOX_HOME,
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    CI: 'true',
    ...request.extraEnv,
  };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--json-status-fd', '3');
  return args;
}
