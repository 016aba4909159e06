import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { runCli } from '../program';

/** A context whose only door is standard input: `signatures` must need nothing else. */
function contextWith(input: string): { context: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const unused = (): never => {
    throw new Error('signatures must not reach Temporal, Postgres or a sandbox');
  };
  const context: CliContext = cliContextFor({
    io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unused, readInput: async () => input },
  });
  return { context, out, err };
}

const LOG = ['payment 81 declined for customer #4411 at checkout', 'disk full on /var/lib/data', 'payment 82 declined for customer #4412 at checkout', ''].join('\n');

describe('steward signatures', () => {
  it('writes exactly one line per input line, in order: the signature id, a tab, the template', async () => {
    const { context, out } = contextWith(LOG);
    expect(await runCli(['signatures'], context)).toBe(0);
    expect(out).toHaveLength(3);
    const [first, second, third] = out.map((line) => line.split('\t'));
    expect(first![0]).toMatch(/^[0-9a-f]{16}$/);
    expect(first).toEqual(third);
    expect(first![1]).toBe('payment <*> declined for customer <*> at checkout');
    expect(second![1]).toBe('disk full on <*>');
  });

  it('prints JSON lines with --json', async () => {
    const { context, out } = contextWith(LOG);
    expect(await runCli(['signatures', '--json'], context)).toBe(0);
    expect(out.map((line) => Object.keys(JSON.parse(line) as object))).toEqual([
      ['signature', 'template'],
      ['signature', 'template'],
      ['signature', 'template'],
    ]);
  });

  it('keeps ids stable between runs through --state, and refuses a file that is not a state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-signatures-'));
    const state = path.join(dir, 'miner.json');
    try {
      const first = contextWith('timeout calling inventory after 3000 ms\n');
      expect(await runCli(['signatures', '--state', state], first.context)).toBe(0);
      const second = contextWith('timeout calling inventory after 5000 ms\n');
      expect(await runCli(['signatures', '--state', state], second.context)).toBe(0);
      expect(second.out[0]!.split('\t')[0]).toBe(first.out[0]!.split('\t')[0]);

      fs.writeFileSync(state, '{"version": 9}');
      const broken = contextWith('anything\n');
      expect(await runCli(['signatures', '--state', state], broken.context)).toBe(1);
      expect(broken.err.join('\n')).toContain(`--state ${state} is not a saved miner state`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
