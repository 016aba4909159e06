/**
 * The deploy demo's recorded answers hold up against its fixture: the real deploy triage, served
 * demo/deploy.transcript.json by the replay model, grounds the recorded link in the diff of
 * commitRegression and an error the regressed service really throws; the recorded reproduction
 * fails at that revision for the regression's reason, and the fix agent's edit makes the suite pass.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GitCodeSearch } from '../adapters/git-code-search.adapter';
import { ReplayModel } from '../adapters/replay-model.adapter';
import { createDeployTriageActivities } from '../activities/deploy-triage/deploy-triage.activities';
import { alertFromRegression } from '../domain/regression-alert';
import { LogTemplateMiner } from '../domain/log-template-miner';
import { matchReproduction } from '../domain/reproduction-match';
import { signatureTextOf } from '../activities/deploy-watch/signature-counting';
import { commitRegression, demoDiff, DEPLOY_TRANSCRIPT_PATH, ensureDemoRepository } from './demo-fixtures';
import { checkoutRevision } from './demo-production-service';

interface RecordedToolCall {
  name: string;
  input: { path: string; oldText: string; newText: string };
}
interface RecordedSteps {
  'triage.deploy-1.link': { response: { link: { signature: string } } };
  'reproduce.try-1': { response: { testPath: string; content: string } };
  [turn: `fix.attempt-${number}.turn-${number}`]: { response: { toolCalls: RecordedToolCall[] } };
}
const transcript = JSON.parse(fs.readFileSync(DEPLOY_TRANSCRIPT_PATH, 'utf8')) as { steps: RecordedSteps };
const step = <K extends 'triage.deploy-1.link' | 'reproduce.try-1'>(name: K): RecordedSteps[K]['response'] => transcript.steps[name].response;

let root: string;
let repository: string;
let deploy: { revision: string; previousRevision: string };
let production: string;
/** The error the regressed service throws for ten tees, as its OpenTelemetry preload would send it. */
let thrown: { message: string; stackTrace: string };

function runNode(cwd: string, args: string[]) {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH } });
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-demo-deploy-'));
  repository = path.join(root, 'repos', 'checkout-service');
  ensureDemoRepository(repository);
  deploy = commitRegression(repository);
  production = path.join(root, 'production');
  checkoutRevision({ repositoryPath: repository, checkoutPath: production }, deploy.revision);
  const run = runNode(production, [
    '-e',
    "try { require('./src/server').handleCheckout({ items: [{ sku: 'TEE', unitPriceCents: 1999, quantity: 10 }], couponCode: 'WELCOME10' }); } catch (e) { process.stdout.write(JSON.stringify({ message: e.name + ': ' + e.message, stackTrace: e.stack })); process.exit(3); }",
  ]);
  expect(run.status).toBe(3);
  thrown = JSON.parse(run.stdout) as typeof thrown;
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the deploy demo fixture', () => {
  it('ships a green suite: the regression is not one a test of the revision catches', () => {
    const suite = runNode(production, ['--test', 'test/']);
    expect(suite.stderr + suite.stdout).toMatch(/# fail 0/);
    expect(suite.status).toBe(0);
  });

  it('throws a TypeError in unitPriceCents for a bulk order of an item without a bulk price', () => {
    expect(thrown.message).toBe("TypeError: Cannot read properties of undefined (reading 'unitPriceCents')");
    expect(thrown.stackTrace).toMatch(/at unitPriceCents \(.*src\/pricing\.js:12:\d+\)/);
  });

  it('is the same revision on every fresh repository, so the recorded answers always meet the same code', () => {
    const again = path.join(root, 'again');
    ensureDemoRepository(again);
    expect(commitRegression(again)).toEqual(deploy);
    // A second call finds the branch instead of committing again.
    expect(commitRegression(repository)).toEqual(deploy);
  });
});

describe('demo/deploy.transcript.json', () => {
  it('names the signature the template miner gives the thrown error', () => {
    const mined = new LogTemplateMiner().learn(signatureTextOf({ message: thrown.message }));
    expect(step('triage.deploy-1.link').link.signature).toBe(mined.id);
  });

  it('holds a causal link the real deploy triage grounds against the fixture, with no other model step', async () => {
    const signature = new LogTemplateMiner().learn(thrown.message).id;
    const codeSearch = new GitCodeSearch({ repositories: { 'checkout-service': repository }, mirrorRoot: path.join(root, 'mirrors') });
    const triage = createDeployTriageActivities({ model: new ReplayModel(DEPLOY_TRANSCRIPT_PATH), codeSearch });
    const verdict = await triage.triageDeploy({
      watchId: `deploy-checkout-service-${deploy.revision}`,
      service: 'checkout-service',
      revision: deploy.revision,
      diffs: [{ revision: deploy.revision, previousRevision: deploy.previousRevision, diffText: demoDiff(repository, deploy.previousRevision, deploy.revision) }],
      flagged: [{ signature, template: thrown.message, sample: thrown, baselineCount: 0, afterCount: 40 }],
    });
    expect(verdict.rejectedLinks).toEqual([]);
    expect(verdict.modelSteps).toEqual(['triage.deploy-1.link']);
    expect(verdict.classification[0]!.files.map((f) => [f.path, f.fileClass, f.decidedBy])).toEqual([
      ['src/pricing.js', 'runtime', 'rules'],
      ['test/bulk-pricing.test.js', 'test', 'rules'],
    ]);
    expect(verdict.verdict).toBe('caused');
    // What the watch's policy needs to fix forward (domain/deploy-response.ts).
    expect(verdict.confidence).toBeGreaterThanOrEqual(0.7);
    expect(verdict.citedLine).toMatchObject({ revision: deploy.revision, file: 'src/pricing.js', line: 12, side: 'new' });
    expect(verdict.citedLine!.text).toContain('BULK_PRICES[item.sku].unitPriceCents');
    expect(verdict.attributedSignatures).toEqual([signature]);
  });

  it("holds a reproduction that fails at the revision for the regression's reason, and a fix that makes the whole suite pass", () => {
    const workspace = path.join(root, 'workspace');
    execFileSync('git', ['clone', '--quiet', repository, workspace]);
    execFileSync('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', deploy.revision], { cwd: workspace });
    const reproduction = step('reproduce.try-1');
    fs.writeFileSync(path.join(workspace, reproduction.testPath), reproduction.content);

    const failing = runNode(workspace, ['--test', reproduction.testPath]);
    expect(failing.status).not.toBe(0);
    const alert = alertFromRegression(
      { service: 'checkout-service', revision: deploy.revision, previousRevision: deploy.previousRevision, environment: 'production', deployedAt: '2026-12-01T10:00:00.000Z', build: null, source: 'webhook' },
      'deploy-watch',
      { signature: new LogTemplateMiner().learn(thrown.message).id, template: thrown.message, baselineCount: 0, afterCount: 40, ratio: null, sample: thrown },
      { confidence: 0.93, reasoning: 'cited', citedLine: null },
      'P1',
      null,
    );
    expect(matchReproduction(`${alert.title}\n${alert.message}`, failing.stdout + failing.stderr)).toMatchObject({ matched: true });

    const edits = Object.entries(transcript.steps)
      .filter(([name]) => name.startsWith('fix.attempt-1.turn-'))
      .flatMap(([, recorded]) => (recorded as { response: { toolCalls: RecordedToolCall[] } }).response.toolCalls.filter((call) => call.name === 'edit_file'));
    expect(edits.length).toBeGreaterThan(0);
    for (const { input } of edits) {
      const file = path.join(workspace, input.path);
      const content = fs.readFileSync(file, 'utf8');
      // edit_file takes an oldText that occurs exactly once.
      expect(content.split(input.oldText).length).toBe(2);
      fs.writeFileSync(file, content.replace(input.oldText, input.newText));
    }
    const suite = runNode(workspace, ['--test', 'test/']);
    expect(suite.stdout + suite.stderr).toMatch(/# fail 0/);
    expect(suite.status).toBe(0);
  });
});
