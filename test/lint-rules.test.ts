import * as path from 'node:path';
import { ESLint } from 'eslint';

/** The lint rules are what keep workflow code deterministic, so they are tested like code. */
describe('workflow import rules', () => {
  // Jest cannot run ESLint's own dynamic import of the config file, so the config is handed over.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require('../eslint.config.js');
  const eslint = new ESLint({ cwd: path.join(__dirname, '..'), overrideConfigFile: true, overrideConfig: config });
  const lintWorkflow = async (source: string): Promise<string[]> => {
    const [result] = await eslint.lintText(source, { filePath: path.join(__dirname, '..', 'workflows', 'probe.workflow.ts') });
    return result!.messages.map((m) => m.message);
  };

  it.each([
    ["import * as fs from 'node:fs';", 'deterministic'],
    ["import { spawn } from 'child_process';", 'deterministic'],
    ["import { Pool } from 'pg';", 'workflow sandbox'],
    ["import { ProcessSandbox } from '../sandbox/process-sandbox.adapter';", 'through activities'],
    ["import { createIncidentActivities } from '../activities';", 'by type only'],
  ])('refuses %s', async (line, why) => {
    const messages = await lintWorkflow(`${line}\nexport const used = [${line.match(/\{ (\w+) \}|\* as (\w+)/)!.slice(1).find(Boolean)}];\n`);
    expect(messages.join('\n')).toContain(why);
  });

  it('allows activities imported as types', async () => {
    const messages = await lintWorkflow("import type { IncidentActivities } from '../activities';\nexport type A = IncidentActivities;\n");
    expect(messages).toEqual([]);
  });
});
