import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecOptions, ExecResult } from './sandbox.port';

/**
 * Running a command as a child process of the worker with the port's semantics, for every backend:
 * the tail of its output (and each chunk to onOutput), a kill on timeout, on abort and when
 * onOutput throws, and an end that does not wait for output that keeps arriving after it exited.
 */

export const OUTPUT_TAIL_BYTES = 8 * 1024;
/** How long output may keep arriving after the command exited, from a process that escaped its group. */
const OUTPUT_DRAIN_MS = 2_000;

/** Keeps the last `limitBytes` of a stream of text without holding all of it. */
export class OutputTail {
  private text = '';

  constructor(private readonly limitBytes: number = OUTPUT_TAIL_BYTES) {}

  push(chunk: string): void {
    this.text += chunk;
    // Every character is at least one byte, so the last `limitBytes` characters hold the last `limitBytes` bytes.
    if (this.text.length > 2 * this.limitBytes) this.text = this.text.slice(-this.limitBytes);
  }

  toString(): string {
    const bytes = Buffer.from(this.text, 'utf8');
    if (bytes.length <= this.limitBytes) return this.text;
    let start = bytes.length - this.limitBytes;
    // Start on a character boundary, not inside a multi-byte UTF-8 sequence.
    while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}

export function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    // ESRCH: every process of the group has exited already, which is the goal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** What a supervised command hands its `connect` to route its streams. */
export interface CommandOutput {
  readonly tail: OutputTail;
  /** A chunk of the command's own output: into the tail, and to onOutput. */
  record(chunk: string): void;
  /** Ends the command; the run then fails with `error` (the first one given wins). */
  fail(error: unknown): void;
}

export interface SupervisedCommand extends ExecOptions {
  command: string;
  /** Starts the child process, with stdout and stderr as pipes. */
  start(): ChildProcess;
  /** Ends the child and everything the command started. */
  kill(child: ChildProcess): void;
  /** Routes the child's streams; by default stdout and stderr are both the command's output. */
  connect?(child: ChildProcess, output: CommandOutput): void;
  /** Called when the child exits, before its streams have drained. */
  onExit?(child: ChildProcess): void;
  /** What a child that could not be started rejects with; by default the spawn error itself. */
  startFailure?(error: Error): unknown;
  /**
   * After a kill of ours, report the command as killed by SIGKILL whatever the child's own exit
   * status: where the child is a wrapper (bwrap, the docker client), that status says nothing about the command.
   */
  reportKillAsSigkill?: boolean;
  /** Called with a kill for the running command; returns its deregistration. */
  registerKill?: (kill: () => void) => () => void;
}

export interface CommandEnd {
  exec: ExecResult;
  /** Whether the command was ended by a kill of ours (timeout, abort, a failing onOutput or a registered kill). */
  killed: boolean;
}

export function superviseCommand(options: SupervisedCommand): Promise<CommandEnd> {
  const startedAt = Date.now();
  return new Promise<CommandEnd>((resolve, reject) => {
    const child = options.start();
    const tail = new OutputTail();
    let timedOut = false;
    let killed = false;
    let failure: { error: unknown } | null = null;
    let drainTimer: NodeJS.Timeout | undefined;

    const kill = (): void => {
      killed = true;
      options.kill(child);
    };
    const deregister = options.registerKill?.(kill);
    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    const cleanUp = (): void => {
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', kill);
      deregister?.();
    };

    const output: CommandOutput = {
      tail,
      record: (chunk) => {
        tail.push(chunk);
        if (!options.onOutput || failure) return;
        try {
          options.onOutput(chunk);
        } catch (error) {
          output.fail(error);
        }
      },
      fail: (error) => {
        failure ??= { error };
        kill();
      },
    };
    if (options.connect) options.connect(child, output);
    else {
      child.stdout!.setEncoding('utf8').on('data', output.record);
      child.stderr!.setEncoding('utf8').on('data', output.record);
    }

    child.on('exit', () => {
      options.onExit?.(child);
      drainTimer = setTimeout(() => {
        for (const stream of child.stdio) stream?.destroy();
      }, OUTPUT_DRAIN_MS);
    });
    child.on('error', (error) => {
      cleanUp();
      reject(options.startFailure ? options.startFailure(error) : error);
    });
    child.on('close', (exitCode, signal) => {
      cleanUp();
      if (failure) {
        reject(failure.error);
        return;
      }
      const reportKill = killed && options.reportKillAsSigkill === true;
      resolve({
        exec: {
          command: options.command,
          exitCode: reportKill ? null : exitCode,
          signal: reportKill ? 'SIGKILL' : signal,
          timedOut,
          durationMs: Date.now() - startedAt,
          outputTail: tail.toString(),
        },
        killed,
      });
    });
  });
}

/**
 * Only what a build needs. An allowlist rather than a denylist: a token added to the worker's
 * environment tomorrow must not reach model-written code either.
 */
export function commandEnvironment(folders: { home: string; tmp: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: folders.home,
    LANG: process.env.LANG ?? 'C.UTF-8',
    TMPDIR: folders.tmp,
    CI: 'true',
  };
}

/**
 * Runs `command` under bash in `cwd`, in its own process group, so that killing the group also
 * reaches whatever the command started; the group is killed on timeout or abort, and again once
 * bash exits, so that no background job outlives the command (it would also hold the pipes open).
 * stderr joins stdout inside the shell: one pipe keeps the two in the order they were written
 * (only bash itself can write to stderr before the command's first line runs).
 */
export async function runInProcessGroup(cwd: string, command: string, env: NodeJS.ProcessEnv, options: ExecOptions): Promise<ExecResult> {
  const killGroup = (child: ChildProcess): void => {
    if (child.pid !== undefined) killProcessGroup(child.pid);
  };
  const end = await superviseCommand({
    ...options,
    command,
    start: () => spawn('bash', ['-c', `exec 2>&1\n${command}`], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }),
    kill: killGroup,
    onExit: killGroup,
  });
  return end.exec;
}
