import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** Where the replay tests read recorded histories from. */
export const HISTORIES_DIR = path.join(__dirname, '..', 'histories');

/**
 * With STEWARD_RECORD_HISTORIES set (`npm run record:histories`), keeps a run's history as
 * test/histories/<name>.json for the replay tests, in the same JSON form as
 * `temporal workflow show --output json` and the Web UI's download; otherwise does nothing.
 */
export async function recordHistory(client: Client, name: string, workflowId: string): Promise<void> {
  if (!process.env.STEWARD_RECORD_HISTORIES) return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
}
