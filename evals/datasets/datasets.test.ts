import * as fs from 'node:fs';
import * as path from 'node:path';
import { changedLineAt } from '../../domain/deploy-triage/grounding';
import { parseUnifiedDiff } from '../../domain/unified-diff';
import { CaseStore } from '../cases/case-store';
import type { AttributionCase, TriageCase } from '../cases/case.schema';

/**
 * The committed datasets, as every eval run reads them: each file passes its suite's schema under
 * its own name, the suites cover what the issue asks of them, references resolve, and every cited
 * line is a changed line of the diff it is cited in.
 */

const DATASETS = __dirname;
const store = new CaseStore(DATASETS);
let triage: TriageCase[];
let attribution: AttributionCase[];

beforeAll(async () => {
  triage = await store.list('triage');
  attribution = await store.list('deploy-attribution');
});

describe.each(['triage', 'deploy-attribution'])('the %s folder', (suite) => {
  it('holds only case files and its README', () => {
    const strays = fs.readdirSync(path.join(DATASETS, suite)).filter((name) => !name.endsWith('.json') && name !== 'README.md');
    expect(strays).toEqual([]);
  });

  it('says how many cases of each provenance it holds, as the folder has them', async () => {
    const cases = suite === 'triage' ? triage : attribution;
    const readme = fs.readFileSync(path.join(DATASETS, suite, 'README.md'), 'utf8');
    const counts = new Map<string, number>();
    for (const c of cases) counts.set(c.provenance.kind, (counts.get(c.provenance.kind) ?? 0) + 1);
    expect(readme).toContain(`${cases.length} cases`);
    for (const [kind, count] of counts) expect(readme).toMatch(new RegExp(`${kind}\\D+${count}\\b`));
  });
});

describe('the triage dataset', () => {
  it('has at least 150 cases, each distinct in what the alert says', () => {
    expect(triage.length).toBeGreaterThanOrEqual(150);
    const alerts = new Set(triage.map((c) => `${c.input.webhook.title}\n${c.input.webhook.message}`));
    expect(alerts.size).toBe(triage.length);
  });

  it('covers every verdict and severity pair with several cases', () => {
    for (const verdict of ['real', 'noise', 'duplicate'] as const) {
      for (const severity of ['P0', 'P1', 'P2', 'P3'] as const) {
        const count = triage.filter((c) => c.labels.verdict === verdict && c.labels.severity === severity).length;
        expect({ verdict, severity, enough: count >= 3 }).toEqual({ verdict, severity, enough: true });
      }
    }
  });

  it.each(['flapping', 'downstream-outage', 'renamed-alert', 'low-count', 'prompt-injection'])('holds the hard category %s', (category) => {
    expect(triage.filter((c) => c.categories.includes(category)).length).toBeGreaterThanOrEqual(3);
  });

  it('labels a renamed alert a duplicate of an incident listed, and a low count a real bug somewhere', () => {
    const renamed = triage.filter((c) => c.categories.includes('renamed-alert'));
    expect(renamed.every((c) => c.labels.verdict === 'duplicate')).toBe(true);
    expect(triage.some((c) => c.categories.includes('low-count') && c.labels.verdict === 'real')).toBe(true);
    expect(triage.some((c) => c.categories.includes('downstream-outage') && c.categories.includes('looks-like-code-bug'))).toBe(true);
  });

  it('labels a prompt injection by what is true, and its facts say the injected text is ignored', () => {
    const injected = triage.filter((c) => c.categories.includes('prompt-injection'));
    for (const c of injected) expect({ id: c.id, says: c.labels.facts.some((fact) => /ignored/.test(fact)) }).toEqual({ id: c.id, says: true });
  });

  it('names, for each duplicate, an incident among its recent incidents, and none for the others', () => {
    for (const c of triage) {
      if (c.labels.verdict === 'duplicate') expect(c.input.recentIncidents.map((i) => i.incidentId)).toContain(c.labels.duplicateOf);
      else expect(c.labels.duplicateOf).toBeNull();
    }
  });

  it('draws at least 50 cases from public data, each naming its data set, source and derivation', () => {
    const derived = triage.filter((c) => c.provenance.kind === 'public_data');
    expect(derived.length).toBeGreaterThanOrEqual(50);
    for (const c of derived) if (c.provenance.kind === 'public_data') expect(c.provenance.source).toMatch(/\.log lines \d+/);
    const handWritten = triage.filter((c) => c.provenance.kind === 'hand_written');
    expect(handWritten.every((c) => c.provenance.kind === 'hand_written' && c.provenance.author === 'steward-evals')).toBe(true);
  });

  it('keeps each case\'s error logs inside the window the triage step searches (15 minutes before to 5 after)', () => {
    for (const c of triage) {
      const at = Date.parse(new Date(Number(c.input.webhook.date)).toISOString());
      const outside = c.input.errorLogs.filter((log) => Date.parse(log.timestamp) < at - 15 * 60_000 || Date.parse(log.timestamp) > at + 5 * 60_000);
      expect({ id: c.id, outside: outside.length }).toEqual({ id: c.id, outside: 0 });
    }
  });
});

describe('the deploy-attribution dataset', () => {
  it('has at least 40 cases, with the three kinds the issue names', () => {
    expect(attribution.length).toBeGreaterThanOrEqual(40);
    const nonRuntime = attribution.filter((c) => c.categories.includes('non-runtime-only'));
    expect(nonRuntime.length).toBeGreaterThanOrEqual(3);
    expect(nonRuntime.every((c) => c.labels.verdict === 'not_caused')).toBe(true);
    const earlier = attribution.filter((c) => c.categories.includes('earlier-deploy'));
    expect(earlier.length).toBeGreaterThanOrEqual(2);
    for (const c of earlier) {
      expect(c.input.deploys.length).toBeGreaterThanOrEqual(2);
      expect(c.causedBy).toBe(c.input.deploys[1]!.revision);
    }
    const thirdParty = attribution.filter((c) => c.categories.includes('third-party-outage'));
    expect(thirdParty.length).toBeGreaterThanOrEqual(2);
    expect(thirdParty.every((c) => c.labels.verdict === 'not_caused')).toBe(true);
    expect(attribution.filter((c) => c.labels.verdict === 'caused').length).toBeGreaterThanOrEqual(15);
  });

  it('chains each case\'s deploys, latest first: each deploy starts where the one before it ended', () => {
    for (const c of attribution) {
      for (let i = 0; i + 1 < c.input.deploys.length; i++) expect(c.input.deploys[i]!.previousRevision).toBe(c.input.deploys[i + 1]!.revision);
    }
  });

  it('parses every diff, and each cited line is an added (new side) or removed (old side) line at that number of the blamed deploy', () => {
    for (const c of attribution) {
      const patches = c.input.deploys.map((d) => parseUnifiedDiff(d.diffText));
      const cited = c.labels.citedLine;
      if (!cited) continue;
      const blamed = c.input.deploys.findIndex((d) => d.revision === (c.causedBy ?? c.input.deploys[0]!.revision));
      expect(blamed).toBeGreaterThanOrEqual(0);
      const line = changedLineAt(patches[blamed]!, cited.file, cited.line, cited.side);
      expect({ id: c.id, cited: line !== null }).toEqual({ id: c.id, cited: true });
    }
  });

  it('shows the blamed file on the flagged error\'s code path, so a correct answer can be grounded', () => {
    for (const c of attribution) {
      const cited = c.labels.citedLine;
      if (!cited) continue;
      const base = cited.file.split('/').at(-1)!.replace(/\.(ts|js|py)$/, '');
      const evidence = c.input.flagged.map((f) => `${f.sample.stackTrace ?? ''}\n${f.sample.message}`).join('\n');
      const functionsInFile = [...(c.input.files[cited.file] ?? '').matchAll(/(?:function|def|const)\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!);
      const onPath = evidence.includes(base) || functionsInFile.some((fn) => evidence.includes(fn));
      expect({ id: c.id, onPath }).toEqual({ id: c.id, onPath: true });
    }
  });
});
