import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/config';
import type { DeployEvent } from '../domain/deploy';
import type { Monitor } from '../ports/monitors.port';

/**
 * The bundled demo's world: the checkout-service as a local git repository (the code host), its
 * Datadog monitor (seeded into the monitor store by workers/demo-monitor.ts) and its alert. The
 * repository is created once and then reused, so the PR branches Steward writes survive between runs.
 */

export const DEMO_SOURCE_DIR = path.join(PROJECT_ROOT, 'demo', 'checkout-service');
export const DEMO_ALERT_PATH = path.join(PROJECT_ROOT, 'demo', 'alert.json');
const DEMO_MONITOR_PATH = path.join(PROJECT_ROOT, 'demo', 'monitor.json');
/** The model's answers for the build-failure scenario: the fix agent's turns and the review, nothing else. */
export const BUILD_FAILURE_TRANSCRIPT_PATH = path.join(PROJECT_ROOT, 'demo', 'build-failure.transcript.json');
/** The model's answers for the deploy scenario: the deploy triage's link, then the child incident's reproduction, fix and review. */
export const DEPLOY_TRANSCRIPT_PATH = path.join(PROJECT_ROOT, 'demo', 'deploy.transcript.json');
/** The model's answers for the nightly QA scenario: the QA missions' turns over two nights, then the finding's incident's fix and review. */
export const NIGHTLY_QA_TRANSCRIPT_PATH = path.join(PROJECT_ROOT, 'demo', 'nightly-qa.transcript.json');

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } }).trim();
}

/** Fixed identity and dates: every fresh demo repository gets the same commit ids. */
function demoIdentity(date: string): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: 'Checkout Team',
    GIT_AUTHOR_EMAIL: 'checkout@example.com',
    GIT_COMMITTER_NAME: 'Checkout Team',
    GIT_COMMITTER_EMAIL: 'checkout@example.com',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
}

/** Creates the demo repository under the data folder if it is missing; returns its deployed revision. */
export function ensureDemoRepository(repositoryPath: string): string {
  if (!fs.existsSync(path.join(repositoryPath, '.git'))) {
    const staging = `${repositoryPath}.staging-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(DEMO_SOURCE_DIR, staging, { recursive: true });
    git(staging, ['init', '--quiet', '--initial-branch=main']);
    git(staging, ['add', '-A']);
    git(staging, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'checkout-service 1.4.2'], demoIdentity('2026-11-01T09:00:00Z'));
    fs.mkdirSync(path.dirname(repositoryPath), { recursive: true });
    fs.renameSync(staging, repositoryPath);
  }
  return git(repositoryPath, ['rev-parse', 'main']);
}

export function demoMonitor(): Omit<Monitor, 'createdBySteward'> {
  return JSON.parse(fs.readFileSync(DEMO_MONITOR_PATH, 'utf8')) as Omit<Monitor, 'createdBySteward'>;
}

/** The demo alert as Datadog would post it, for a new alert cycle at the given revision. */
export function demoAlertPayload(options: { alertCycleKey: string; deployedRevision: string; monitorId?: string; date?: Date; service?: string }): Record<string, string> {
  const template = JSON.parse(fs.readFileSync(DEMO_ALERT_PATH, 'utf8')) as Record<string, string>;
  const tags = template.tags!.replace('DEPLOYED_SHA', options.deployedRevision);
  return {
    ...template,
    monitor_id: options.monitorId ?? template.monitor_id!,
    alert_cycle_key: options.alertCycleKey,
    tags: options.service === undefined ? tags : tags.replace('service:checkout-service', `service:${options.service}`),
    date: String((options.date ?? new Date()).getTime()),
  };
}

/**
 * The build-failure scenario's change: shipping moves into a module of its own, and pricing
 * requires it under a name it does not have. Every module still parses, so only a build that
 * loads them (the demo's `node scripts/build.js`) catches it before production does.
 */
export const BROKEN_BUILD_BRANCH = 'release/1.5.0';
export const BROKEN_BUILD_COMMIT_MESSAGE = 'Move the shipping rules into their own module';
export const BROKEN_BUILD_FILES: Record<string, string> = {
  'src/shipping.js': `'use strict';

/** Orders from 50.00 ship free; below that, shipping is a flat 4.99. */
const FREE_SHIPPING_FROM_CENTS = 5000;
const SHIPPING_CENTS = 499;

function shippingCents(subtotal) {
  return subtotal >= FREE_SHIPPING_FROM_CENTS ? 0 : SHIPPING_CENTS;
}

module.exports = { shippingCents, FREE_SHIPPING_FROM_CENTS };
`,
  'src/pricing.js': `'use strict';

const { shippingCents } = require('./shipping-rules');

/** Prices are kept in cents so that sums never drift. */
function subtotalCents(items) {
  return items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
}

/** Coupons take a percentage off the subtotal, rounded to the nearest cent. */
function discountCents(subtotal, coupon) {
  return Math.round((subtotal * coupon.percent) / 100);
}

function priceOrder(order) {
  const subtotal = subtotalCents(order.items);
  const discount = discountCents(subtotal, order.coupon);
  const shipping = shippingCents(subtotal - discount);
  return { subtotal, discount, shipping, total: subtotal - discount + shipping };
}

module.exports = { subtotalCents, discountCents, shippingCents, priceOrder };
`,
};

/**
 * Commits the breaking change on BROKEN_BUILD_BRANCH, from main, in the demo repository (once;
 * later calls find the branch). Main is left as it is, so the plain demo still deploys main.
 * Returns the deploy the scenario reports: the broken revision and the one deployed before it.
 */
export function commitBrokenBuild(repositoryPath: string): { revision: string; previousRevision: string } {
  return commitOnBranch(repositoryPath, { branch: BROKEN_BUILD_BRANCH, files: BROKEN_BUILD_FILES, message: BROKEN_BUILD_COMMIT_MESSAGE, date: '2026-11-20T10:00:00Z' });
}

/**
 * The deploy scenario's change: bulk prices for orders of ten or more of an item. The catalogue
 * holds bulk prices for some items only, and unitPriceCents assumes every item has one, so a bulk
 * order of any other item (ten tees) throws a TypeError in production. The suite passes: its
 * existing tests order one or two of an item, and the new one orders mugs, which have a bulk price.
 */
export const REGRESSION_BRANCH = 'release/1.6.0';
export const REGRESSION_COMMIT_MESSAGE = 'Bulk prices for orders of ten or more of an item';
export const REGRESSION_FILES: Record<string, string> = {
  'src/pricing.js': `'use strict';

/** Ten or more of one item take its bulk price, where the catalogue has one. */
const BULK_QUANTITY = 10;
const BULK_PRICES = {
  MUG: { unitPriceCents: 990 },
  SOCKS: { unitPriceCents: 450 },
};

/** What one unit of the item costs in this order. */
function unitPriceCents(item) {
  if (item.quantity >= BULK_QUANTITY) return BULK_PRICES[item.sku].unitPriceCents;
  return item.unitPriceCents;
}

/** Prices are kept in cents so that sums never drift. */
function subtotalCents(items) {
  return items.reduce((sum, item) => sum + unitPriceCents(item) * item.quantity, 0);
}

/** Coupons take a percentage off the subtotal, rounded to the nearest cent. */
function discountCents(subtotal, coupon) {
  return Math.round((subtotal * coupon.percent) / 100);
}

function shippingCents(subtotal) {
  return subtotal >= 5000 ? 0 : 499;
}

function priceOrder(order) {
  const subtotal = subtotalCents(order.items);
  const discount = discountCents(subtotal, order.coupon);
  const shipping = shippingCents(subtotal - discount);
  return { subtotal, discount, shipping, total: subtotal - discount + shipping };
}

module.exports = { BULK_QUANTITY, unitPriceCents, subtotalCents, discountCents, shippingCents, priceOrder };
`,
  'test/bulk-pricing.test.js': `'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { subtotalCents, BULK_QUANTITY } = require('../src/pricing');

test('ten mugs or more take the bulk price', () => {
  assert.equal(BULK_QUANTITY, 10);
  assert.equal(subtotalCents([{ sku: 'MUG', unitPriceCents: 1250, quantity: 10 }]), 9900);
});

test('fewer than ten mugs pay the unit price', () => {
  assert.equal(subtotalCents([{ sku: 'MUG', unitPriceCents: 1250, quantity: 9 }]), 11250);
});
`,
};

/** Commits the bulk-pricing change on REGRESSION_BRANCH, from main, once; main is left as it is. */
export function commitRegression(repositoryPath: string): { revision: string; previousRevision: string } {
  return commitOnBranch(repositoryPath, { branch: REGRESSION_BRANCH, files: REGRESSION_FILES, message: REGRESSION_COMMIT_MESSAGE, date: '2026-11-24T14:00:00Z' });
}

/**
 * Commits files on a new branch from main in the demo repository (once; later calls find the
 * branch), with the demo's fixed identity, so a fresh repository always gets the same revision.
 */
function commitOnBranch(repositoryPath: string, change: { branch: string; files: Record<string, string>; message: string; date: string }): { revision: string; previousRevision: string } {
  const previousRevision = git(repositoryPath, ['rev-parse', 'main']);
  const existing = branchHead(repositoryPath, change.branch);
  if (existing) return { revision: existing, previousRevision: git(repositoryPath, ['rev-parse', `${existing}^`]) };
  // A worktree of its own: the repository is the code host's, and its checkout is not ours to move.
  const staging = `${repositoryPath}.${change.branch.replace(/[^\w.-]/g, '-')}-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  git(repositoryPath, ['worktree', 'add', '--quiet', '-b', change.branch, staging, previousRevision]);
  try {
    for (const [file, content] of Object.entries(change.files)) {
      fs.mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
      fs.writeFileSync(path.join(staging, file), content);
    }
    git(staging, ['add', '-A']);
    git(staging, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', change.message], demoIdentity(change.date));
    return { revision: git(staging, ['rev-parse', 'HEAD']), previousRevision };
  } finally {
    git(repositoryPath, ['worktree', 'remove', '--force', staging]);
  }
}

function branchHead(repositoryPath: string, branch: string): string | null {
  try {
    return git(repositoryPath, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
  } catch {
    // rev-parse --verify --quiet exits 1, silently, exactly when the branch does not exist.
    return null;
  }
}

/** `git diff previous..revision` in the demo repository: the context the build-failure alert carries. */
export function demoDiff(repositoryPath: string, previousRevision: string, revision: string): string {
  return git(repositoryPath, ['diff', `${previousRevision}..${revision}`]);
}

/** The deploy pipeline's log of the broken build, as a CI runner prints it from a checkout of its own. */
export const BROKEN_BUILD_LOG = [
  '2026-11-20T10:01:02.1Z > checkout-service@1.5.0 build',
  '2026-11-20T10:01:02.1Z > node scripts/build.js',
  '2026-11-20T10:01:02.3Z build: src/pricing.js does not load',
  "2026-11-20T10:01:02.3Z Error: Cannot find module './shipping-rules'",
  '2026-11-20T10:01:02.3Z Require stack:',
  '2026-11-20T10:01:02.3Z - /home/runner/work/checkout-service/checkout-service/src/pricing.js',
  '2026-11-20T10:01:02.3Z     at Object.<anonymous> (/home/runner/work/checkout-service/checkout-service/src/pricing.js:3:27)',
  '2026-11-20T10:01:02.4Z build failed: 2 of 4 modules',
  '2026-11-20T10:01:02.5Z ##[error]Process completed with exit code 1.',
].join('\n');

/** The deploy of the broken revision, its build failed with BROKEN_BUILD_LOG: what the scenario reports to Steward. */
export function brokenBuildDeploy(deploy: { revision: string; previousRevision: string }, deployedAt: Date = new Date()): DeployEvent {
  return {
    service: 'checkout-service',
    revision: deploy.revision,
    previousRevision: deploy.previousRevision,
    environment: 'production',
    deployedAt: deployedAt.toISOString(),
    build: { status: 'failure', log: BROKEN_BUILD_LOG, logUrl: null },
    source: 'cli',
  };
}
