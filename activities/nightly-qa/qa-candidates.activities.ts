import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { NIGHTLY_QA_MONITOR_ID } from '../../domain/nightly-qa/finding-alert';
import { findingSignaturesIn } from '../../domain/nightly-qa/finding-signature';
import type { CoreFeatureFacts } from '../../domain/nightly-qa/planner';
import type { ServicesConfig } from '../../domain/service-config';
import type { CodeHostPort } from '../../ports/code-host.port';
import type { CodeSearchPort } from '../../ports/code-search.port';
import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { MonitorAuthoringPort } from '../../ports/monitors.port';
import { repositoryRefFor, serviceConfigFor } from '../shared/sandbox-session';

/**
 * What a night plans over and dedups against: the repository's candidate areas and core features
 * at the night's revision, and what is already known as a bug. Written on branch qa-flow because
 * qa-edge, which owns these two activities, had not landed them by the agreed time; the names and
 * shapes are the agreed ones, so qa-edge's may replace these.
 */
export interface QaCandidateActivityDeps {
  codeSearch: Pick<CodeSearchPort, 'listSourceFiles' | 'readFile'>;
  codeHost: Pick<CodeHostPort, 'openStewardPullRequests'>;
  ledger: Pick<IncidentLedgerPort, 'listRecentIncidents'>;
  monitors: Pick<MonitorAuthoringPort, 'list'>;
  services: ServicesConfig;
}

const TEST_FILE = /(^|\/)(test|tests|__tests__|spec)\/|\.(test|spec)\.[^/]+$/;
const CODE_FILE = /\.(js|mjs|cjs|jsx|ts|tsx|py|go|rb|java|kt|rs|php|cs)$/;
/** Ended without a fix on its way: a finding of the same signature is not known as being dealt with. */
const ENDED_WITHOUT_FIX = new Set(['not_reproduced', 'could_not_fix', 'rejected', 'approval_timed_out', 'budget_exhausted', 'pr_closed', 'noise']);
/** How many of the service's latest nightly QA incidents are read for their signatures. */
const KNOWN_INCIDENTS_READ = 200;
/** Test files read at once: a repository with thousands of tests is read in batches, each heartbeating, not one by one. */
const TEST_READS_AT_ONCE = 16;

const Service = z.object({ service: z.string().min(1) });

function parsed<T extends z.ZodType>(activity: string, schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `${activity}: invalid input: ${z.prettifyError(result.error)}`);
  return result.data;
}

const stem = (file: string) => file.split('/').pop()!.replace(/\.(test|spec)\./, '.').replace(/\.[^.]+$/, '');

export function createQaCandidateActivities(deps: QaCandidateActivityDeps) {
  /**
   * Every test file's source, in batches that each heartbeat how far the read has come; a
   * cancelled night stops it between batches. Nothing is resumed from the heartbeat: a retry reads
   * again, as the reads are cheap next to a heartbeat timeout and change nothing.
   */
  async function readTests(service: string, revision: string, tests: string[]): Promise<Map<string, string>> {
    const context = Context.current();
    const sources = new Map<string, string>();
    for (let from = 0; from < tests.length; from += TEST_READS_AT_ONCE) {
      if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
      const batch = tests.slice(from, from + TEST_READS_AT_ONCE);
      const read = await Promise.all(batch.map((test) => deps.codeSearch.readFile(service, revision, test)));
      batch.forEach((test, i) => sources.set(test, read[i] ?? ''));
      context.heartbeat({ testsRead: sources.size, tests: tests.length });
    }
    return sources;
  }

  return {
    /**
     * The code files at the revision (tests left out), each marked tested when a test file names
     * it, and the core features: the services file's, else one per test file, over the files it names.
     */
    async qaCandidates(input: { service: string; revision: string }): Promise<{ areas: Array<{ path: string; tested: boolean }>; coreFeatures: CoreFeatureFacts[] }> {
      const { service, revision } = parsed('qaCandidates', Service.extend({ revision: z.string().min(1) }), input);
      const config = serviceConfigFor(deps.services, service);
      const files = await deps.codeSearch.listSourceFiles(service, revision);
      const tests = files.filter((f) => TEST_FILE.test(f) && CODE_FILE.test(f));
      const code = files.filter((f) => CODE_FILE.test(f) && !TEST_FILE.test(f));
      const testSources = await readTests(service, revision, tests);
      // A test names a file when it mentions its name without the extension as a path segment (require('../src/pricing')).
      const names = (source: string, file: string) => new RegExp(`[/'"\`]${stem(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.[a-z]+)?['"\`]`).test(source);
      const areas = code.map((path) => ({ path, tested: [...testSources.values()].some((source) => names(source, path)) }));
      const coreFeatures: CoreFeatureFacts[] = config.nightlyQa.coreFeatures
        ? config.nightlyQa.coreFeatures.map((f) => ({ name: f.name, areas: f.areas, source: 'services-file' as const }))
        : tests
            .map((test) => ({ name: stem(test), areas: code.filter((file) => names(testSources.get(test)!, file)), source: 'tests' as const }))
            .filter((f) => f.areas.length > 0);
      return { areas, coreFeatures };
    },

    /**
     * What a finding's signature may already be known as: the service's nightly QA incidents
     * still open or fixed (their titles carry the signature), Steward's open pull requests whose
     * body quotes one (a nightly QA fix quotes its incident's title), and monitors whose description
     * names it. A PR's `body` here is the signatures it carries, one a line, not its whole text,
     * which would fill the night's history for nothing.
     */
    async knownQaFindings(input: { service: string }): Promise<{
      openIncidents: Array<{ incidentId: string; signatures: string[] }>;
      openPullRequests: Array<{ url: string; body: string }>;
      monitorLinks: Array<{ monitorId: string; description: string }>;
    }> {
      const { service } = parsed('knownQaFindings', Service, input);
      const incidents = await deps.ledger.listRecentIncidents({ monitorId: NIGHTLY_QA_MONITOR_ID, service, excludeIncidentId: '', limit: KNOWN_INCIDENTS_READ });
      const pullRequests = await deps.codeHost.openStewardPullRequests(repositoryRefFor(serviceConfigFor(deps.services, service)));
      const monitors = await deps.monitors.list();
      return {
        openIncidents: incidents.filter((i) => !ENDED_WITHOUT_FIX.has(i.status)).map((i) => ({ incidentId: i.incidentId, signatures: findingSignaturesIn(i.title) })).filter((i) => i.signatures.length > 0),
        openPullRequests: pullRequests.filter((pr) => pr.signatures.length > 0).map((pr) => ({ url: pr.url, body: pr.signatures.join('\n') })),
        monitorLinks: monitors.filter((m) => findingSignaturesIn(m.message).length > 0).map((m) => ({ monitorId: m.id, description: m.message })),
      };
    },
  };
}
