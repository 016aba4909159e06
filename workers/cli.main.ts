import { runCli } from '../cli/program';
import { buildCliContext, processIo } from './cli-context';

/** `steward` (bin/steward.cjs): the CLI's program over a context built from this process's environment. */
runCli(process.argv.slice(2), buildCliContext(processIo, process.env)).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    console.error(`steward: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  },
);
