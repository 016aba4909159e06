import { spawn } from 'node:child_process';

export interface CommandOutcome {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs a program (no shell) and collects its output; never throws for a non-zero exit. */
export function runProgram(program: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

export function runGit(cwd: string, args: string[]): Promise<CommandOutcome> {
  // Never prompt for credentials: there is nobody at the terminal.
  return runProgram('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
}

export async function git(cwd: string, args: string[]): Promise<string> {
  const outcome = await runGit(cwd, args);
  if (outcome.code !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd} (exit ${outcome.code}): ${outcome.stderr.trim()}`);
  return outcome.stdout;
}
