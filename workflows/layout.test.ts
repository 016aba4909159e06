import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Every workflow lives in a folder of its own, workflows/<name>/<name>.workflow.ts, with the
 * modules of its steps and its tests beside it, exports <name in camelCase>Workflow, and is
 * registered through workflows/index.ts, the bundle's entry. Workflows added later (deploy
 * watch, monitor generation, nightly QA…) take the same form, or this fails.
 */
const WORKFLOWS_DIR = __dirname;

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [path.relative(WORKFLOWS_DIR, full).split(path.sep).join('/')];
  });
}

const workflowFiles = filesUnder(WORKFLOWS_DIR).filter((file) => file.endsWith('.workflow.ts'));
const camelCase = (name: string): string => name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

describe('workflows/ layout', () => {
  it('finds the workflows', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['incident/incident.workflow.ts', 'snapshot-refresh/snapshot-refresh.workflow.ts']));
  });

  it.each(workflowFiles)('%s lives in its own folder, named after it', (file) => {
    const [folder, name, ...rest] = file.split('/');
    expect(rest).toEqual([]);
    expect(name).toBe(`${folder}.workflow.ts`);
  });

  it.each(workflowFiles)('%s exports its workflow, and workflows/index.ts exports the same function', (file) => {
    const folder = file.split('/')[0]!;
    const workflowName = `${camelCase(folder)}Workflow`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const workflowModule = require(path.join(WORKFLOWS_DIR, file)) as Record<string, unknown>;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundleEntry = require(path.join(WORKFLOWS_DIR, 'index.ts')) as Record<string, unknown>;
    expect(typeof workflowModule[workflowName]).toBe('function');
    expect(bundleEntry[workflowName]).toBe(workflowModule[workflowName]);
  });

  it('keeps nothing at the top of workflows/ but the bundle entry, this test and notes', () => {
    const topLevel = fs.readdirSync(WORKFLOWS_DIR, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
    expect(topLevel).toContain('index.ts');
    expect(topLevel.filter((name) => !['index.ts', 'layout.test.ts', 'README.md'].includes(name))).toEqual([]);
  });
});
