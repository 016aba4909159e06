import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StewardConfig } from '../config/config';
import { reachableStateFolder } from '../lib/reachable-folder';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startTemporalDevServer } from './temporal-dev-server';

export interface LocalStack {
  databaseUrl: string;
  temporalAddress: string;
  webUiUrl: string | null;
  /** What was started here rather than reused, for the start-up report. */
  started: string[];
  stop(): Promise<void>;
}

export const LOCAL_PORTS = { temporal: 7233, temporalUi: 8233, postgres: 54329 } as const;

/**
 * The embedded defaults: a Temporal dev server and a Postgres cluster under the data folder, each
 * only when its address is not configured. Configured addresses are used as they are.
 */
export async function startLocalStack(config: StewardConfig, log: (line: string) => void): Promise<LocalStack> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const started: string[] = [];
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      // Run as root, the cluster belongs to the postgres user, which must reach it: a data folder in a private folder cannot offer that.
      const state = reachableStateFolder(config.dataDir);
      if (state.relocatedBecause) log(`postgres: cluster in ${state.folder}, because ${state.relocatedBecause.folder} (mode ${state.relocatedBecause.mode.toString(8)}) keeps other users out of the data folder`);
      const postgres = await startEmbeddedPostgres({ dataDir: path.join(state.folder, 'postgres'), port: LOCAL_PORTS.postgres, log });
      databaseUrl = postgres.url;
      stops.push(postgres.stop);
      started.push(`Postgres (embedded) at ${postgres.url}`);
    }
    let temporalAddress = config.temporal.address;
    let webUiUrl = config.temporal.webUiUrl;
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({
        port: LOCAL_PORTS.temporal,
        uiPort: LOCAL_PORTS.temporalUi,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        namespace: config.temporal.namespace,
      });
      temporalAddress = temporal.address;
      webUiUrl = webUiUrl ?? temporal.uiUrl;
      stops.push(temporal.stop);
      started.push(`Temporal dev server at ${temporal.address}${temporal.started ? '' : ' (already running, reused)'}, Web UI ${temporal.uiUrl}`);
    }
    return {
      databaseUrl,
      temporalAddress,
      webUiUrl,
      started,
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}
