import { spawn } from 'node:child_process';

/**
 * The one git runner: every module that shells out to git (the sandbox's workspaces and snapshot
 * mirrors, the local code host, the demo fixtures) goes through it, so credential prompts, output
 * handling and error text are the same everywhere.
 */
export interface GitOutcome {
  code: number | null;
  stdout: string;
  /** Raw bytes of stdout, for binary output such as `git archive` or a patch with odd encodings. */
  stdoutBytes: Buffer;
  stderr: string;
}

export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to git's standard input (e.g. a patch for `git apply`); none when absent. */
  input?: string | Buffer;
}

/** Runs git and collects its output; never throws for a non-zero exit. */
export function runGit(cwd: string, args: string[], options: GitOptions = {}): Promise<GitOutcome> {
  return new Promise((resolve, reject) => {
    // Never prompt for credentials: there is nobody at the terminal.
    const child = spawn('git', args, {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (child.stdin) {
      child.stdin.on('error', (error: NodeJS.ErrnoException) => {
        // EPIPE: git exited before reading all its input; its exit code and stderr say why.
        if (error.code !== 'EPIPE') reject(error);
      });
      child.stdin.end(options.input);
    }
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

export function gitError(cwd: string, args: string[], outcome: Pick<GitOutcome, 'code' | 'stderr'>): Error {
  return new Error(`git ${args.join(' ')} failed in ${cwd} (exit ${outcome.code}): ${outcome.stderr.trim()}`);
}

/** Runs git and returns its stdout; a non-zero exit throws with git's own message. */
export async function git(cwd: string, args: string[], options: GitOptions = {}): Promise<string> {
  const outcome = await runGit(cwd, args, options);
  if (outcome.code !== 0) throw gitError(cwd, args, outcome);
  return outcome.stdout;
}

/**
 * The commit a revision (sha, branch, tag, HEAD) names in a repository, or null when it names none.
 * A revision that starts with `-` is refused rather than read as an option.
 */
export async function resolveCommit(repository: string, revision: string): Promise<string | null> {
  if (revision.startsWith('-')) return null;
  const args = ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`];
  const result = await runGit(repository, args);
  if (result.code === 1) return null;
  if (result.code !== 0) throw gitError(repository, args, result);
  return result.stdout.trim();
}
