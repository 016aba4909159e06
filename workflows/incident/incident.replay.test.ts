import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../test/support/harness';

/**
 * Replays histories recorded from real runs (test/histories, written by the workflow tests with
 * `npm run record:histories`) against today's workflow code. A change that would break running
 * incidents on deploy (a reordered activity, a new timer, a removed signal) fails here. Until the
 * first release an intended change re-records them; see workflows/README.md.
 */
const HISTORIES_DIR = path.join(__dirname, '..', '..', 'test', 'histories');
const histories = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));

describe('workflow replay (the incident, the deploy watch, monitor generation and nightly QA)', () => {
  it('has recorded histories to replay', () => {
    expect(histories.length).toBeGreaterThanOrEqual(5);
  });

  it('holds a history of each path the workflow tests record', () => {
    expect(histories).toEqual(
      expect.arrayContaining([
        'approved-at-the-gate.json',
        'budget-exhausted.json',
        'could-not-fix.json',
        'duplicate-by-monitor-description.json',
        'noise-tunes-monitor.json',
        'not-reproduced.json',
        'pr-merged-while-followed.json',
        'pr-opened-after-a-rejected-attempt.json',
        'rejected-at-the-gate.json',
        'nightly-qa-finding-pr-opened.json',
        'nightly-qa-finding-not-reproduced.json',
        'nightly-qa-finding-approved.json',
        'deploy-watch-clean.json',
        'deploy-watch-fixed-forward.json',
        'deploy-watch-rolled-back.json',
        'deploy-watch-not-runtime.json',
        'deploy-watch-lookback.json',
        'deploy-watch-build-failed.json',
        'monitor-generation-created.json',
        'monitor-generation-retired.json',
        'nightly-qa-quiet.json',
        'nightly-qa-finding-to-pr.json',
        'nightly-qa-duplicate-finding.json',
        'nightly-qa-lead.json',
        'nightly-qa-budget-spent.json',
        'qa-mission-finding.json',
      ]),
    );
  });

  it.each(histories)('replays %s deterministically', async (file) => {
    const json = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as { events?: Array<{ workflowExecutionStartedEventAttributes?: { workflowId?: string } }> };
    const history = historyFromJSON(json);
    // Replayed under the id it ran under: a night names its missions' workflows after its own id.
    const workflowId = json.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file;
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId)).resolves.toBeUndefined();
  });
});
