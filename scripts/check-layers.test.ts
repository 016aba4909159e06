import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkLayers, SOURCE_FOLDERS } from './check-layers';

/**
 * The layer rules are what keep the shape readable, so they are tested like code: a small tree
 * breaks each rule once, and the check must name every break and nothing that is allowed.
 */
const PROBE_TREE: Record<string, string> = {
  'domain/pure.ts': "import { built } from '../adapters/two.adapter';\nexport const pure = built;\n",
  'domain/pure.test.ts': "import { built } from '../adapters/two.adapter';\nexport const t = built;\n",
  'ports/thing.port.ts': "import { setting } from '../config/setting';\nexport const port = setting;\n",
  'contracts/index.ts': "import { act } from '../activities/thing.activities';\nexport const c = act;\n",
  'adapters/one.adapter.ts': "import { built } from './two.adapter';\nexport const one = built;\n",
  'adapters/two.adapter.ts': 'export const built = 2;\n',
  'adapters/shared-client.ts': 'export const client = 0;\n',
  'adapters/three.adapter.ts': "import { client } from './shared-client';\nexport const three = client;\n",
  'activities/thing.activities.ts': "import { setting } from '../config/setting';\nexport const act = setting;\n",
  'config/setting.ts': 'export const setting = 1;\n',
  'api/route.ts': "import { built } from '../adapters/two.adapter';\nimport { story } from '../workflows/story/story.workflow';\nimport { uses } from '../workers/root';\nexport const route = [built, story, uses];\n",
  'api/typed.ts': "import type { Built } from '../adapters/typed.adapter';\nexport type T = Built;\n",
  'adapters/typed.adapter.ts': 'export type Built = number;\n',
  'workers/root.ts': "import { built } from '../adapters/two.adapter';\nimport { typed } from '../api/typed-value';\nexport const uses = [built, typed];\n",
  'api/typed-value.ts': 'export const typed = 3;\n',
  'workflows/story/story.workflow.ts': "import { sandbox } from '../../sandbox/run';\nexport const story = sandbox;\n",
  'sandbox/run.ts': 'export const sandbox = 4;\n',
  'scripts/tool.ts': "import { helper } from '../test/support/helper';\nexport const tool = helper;\n",
  'test/support/helper.ts': 'export const helper = 5;\n',
  'lib/small.ts': "import { pure } from '../domain/pure';\nexport const small = pure;\n",
  'use-cases/start.use-case.ts': "import { uses } from '../workers/root';\nexport const start = uses;\n",
  'cli/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
  'cli/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
};

describe('the layer rules (.dependency-cruiser.cjs)', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-layers-'));
    for (const [file, text] of Object.entries(PROBE_TREE)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('names each break of each rule, and nothing that is allowed', () => {
    const report = checkLayers(root, SOURCE_FOLDERS.concat('test'));
    expect([...report.violations].sort()).toEqual(
      [
        'activities-take-settings-through-factories: activities/thing.activities.ts → config/setting.ts',
        'adapter-stands-alone: adapters/one.adapter.ts → adapters/two.adapter.ts',
        'adapters-built-in-workers-only: api/route.ts → adapters/two.adapter.ts',
        'adapters-built-in-workers-only: domain/pure.ts → adapters/two.adapter.ts',
        'contracts-speak-domain: contracts/index.ts → activities/thing.activities.ts',
        'domain-is-pure: domain/pure.ts → adapters/two.adapter.ts',
        'edges-go-through-use-cases: api/route.ts → workflows/story/story.workflow.ts',
        'lib-is-standalone: lib/small.ts → domain/pure.ts',
        'no-cycles: cli/a.ts → cli/b.ts → cli/a.ts',
        'nothing-imports-tests: scripts/tool.ts → test/support/helper.ts',
        'ports-speak-domain: ports/thing.port.ts → config/setting.ts',
        'use-cases-address-workflows-by-contract: use-cases/start.use-case.ts → workers/root.ts',
        'workflows-reach-world-through-activities: workflows/story/story.workflow.ts → sandbox/run.ts',
      ].sort(),
    );
  });

  it('finds folders that import each other through different files', () => {
    expect(checkLayers(root, SOURCE_FOLDERS).folderCycles).toEqual([['api', 'workers']]);
  });

  it('holds for Steward itself', () => {
    const report = checkLayers(path.join(__dirname, '..'), SOURCE_FOLDERS);
    expect(report.modulesCruised).toBeGreaterThan(100);
    expect({ violations: report.violations, folderCycles: report.folderCycles }).toEqual({ violations: [], folderCycles: [] });
  });
});
