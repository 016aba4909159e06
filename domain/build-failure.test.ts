import { alertFromBuildFailure, BUILD_DIFF_MAX_CHARS, BUILD_LOG_TAIL_CHARS, extractBuildErrors, matchBuildFailure, suspectedFilesOfBuildFailure } from './build-failure';
import { NormalizedAlert } from './alert';
import type { DeployEvent } from './deploy';
import { triageOfBuildFailure } from './triage';

const TSC_LOG = `> checkout@2.1.0 build
> tsc -p tsconfig.build.json

src/pricing.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.
src/server.ts(3,26): error TS2307: Cannot find module './coupon' or its corresponding type declarations.

Found 2 errors in 2 files.

Errors  Files
     1  src/pricing.ts:14
     1  src/server.ts:3
npm ERR! Lifecycle script \`build\` failed with error:
npm ERR! Error: command failed
npm ERR!   in workspace: checkout`;

const TSC_PRETTY_LOG = `\u001b[96msrc/pricing.ts\u001b[0m:\u001b[93m14\u001b[0m:\u001b[93m7\u001b[0m - \u001b[91merror\u001b[0m\u001b[90m TS2322: \u001b[0mType 'string' is not assignable to type 'number'.

14   const total: number = 'free';
         ~~~~~`;

const NODE_SYNTAX_LOG = `2026-11-20T10:01:02.1234567Z Run node --check src/pricing.js
2026-11-20T10:01:02.2000000Z /home/runner/work/checkout-service/checkout-service/src/pricing.js:10
2026-11-20T10:01:02.2000000Z   return Math.round((subtotal * coupon.percent) / 100;
2026-11-20T10:01:02.2000000Z                                                      ^
2026-11-20T10:01:02.2000000Z
2026-11-20T10:01:02.2000000Z SyntaxError: missing ) after argument list
2026-11-20T10:01:02.2000000Z     at wrapSafe (node:internal/modules/cjs/loader:1378:20)
2026-11-20T10:01:02.2000000Z     at checkSyntax (node:internal/main/check_syntax:78:3)
2026-11-20T10:01:02.2000000Z
2026-11-20T10:01:02.2000000Z Node.js v20.11.1
2026-11-20T10:01:02.3000000Z ##[error]Process completed with exit code 1.`;

const ESBUILD_LOG = `✘ [ERROR] Could not resolve "./shipping-rules"

    src/pricing.js:3:30:
      3 │ const { shippingCents } = require('./shipping-rules');
        ╵                                   ~~~~~~~~~~~~~~~~~~

1 error
`;

const WEBPACK_LOG = `asset main.js 1.2 KiB [emitted] (name: main)
ERROR in ./src/index.js 3:0-39
Module not found: Error: Can't resolve './shipping-rules' in '/app/src'
resolve './shipping-rules' in '/app/src'

webpack 5.90.3 compiled with 1 error in 312 ms`;

const GO_LOG = `# example.com/checkout/pricing
pricing/pricing.go:12:2: undefined: shippingCents
pricing/pricing.go:20:9: cannot use total (variable of type float64) as int value in return statement`;

const PYTHON_LOG = `Traceback (most recent call last):
  File "/srv/app/manage.py", line 22, in <module>
    main()
  File "/srv/app/checkout/pricing.py", line 3, in <module>
    from .shipping_rules import shipping_cents
ModuleNotFoundError: No module named 'checkout.shipping_rules'`;

const NPM_ONLY_LOG = `npm ERR! code ELIFECYCLE
npm ERR! errno 2
npm ERR! checkout@2.1.0 build: \`make bundle\`
npm ERR! Exit status 2
npm ERR! A complete log of this run can be found in: /root/.npm/_logs/debug.log`;

const DEMO_BUILD_OUTPUT = `build: src/pricing.js does not load
Error: Cannot find module './shipping-rules'
Require stack:
- src/pricing.js
- scripts/build.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)
    at Module._load (node:internal/modules/cjs/loader:1038:27)
    at require (node:internal/modules/helpers:182:18)
    at Object.<anonymous> (src/pricing.js:3:27)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
build failed: 2 of 4 modules`;

describe('extractBuildErrors', () => {
  it.each([
    ['tsc', TSC_LOG, ["src/pricing.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.", "src/server.ts(3,26): error TS2307: Cannot find module './coupon' or its corresponding type declarations."]],
    ['tsc --pretty, coloured', TSC_PRETTY_LOG, ["src/pricing.ts:14:7 - error TS2322: Type 'string' is not assignable to type 'number'."]],
    ['node --check, under CI timestamps', NODE_SYNTAX_LOG, ['/home/runner/work/checkout-service/checkout-service/src/pricing.js:10', 'SyntaxError: missing ) after argument list']],
    ['esbuild', ESBUILD_LOG, ['✘ [ERROR] Could not resolve "./shipping-rules"', 'src/pricing.js:3:30:']],
    ['webpack', WEBPACK_LOG, ['ERROR in ./src/index.js 3:0-39', "Module not found: Error: Can't resolve './shipping-rules' in '/app/src'"]],
    ['go build', GO_LOG, ['pricing/pricing.go:12:2: undefined: shippingCents', 'pricing/pricing.go:20:9: cannot use total (variable of type float64) as int value in return statement']],
    ['python', PYTHON_LOG, ['File "/srv/app/checkout/pricing.py", line 3, in <module>', "ModuleNotFoundError: No module named 'checkout.shipping_rules'"]],
    ['npm only', NPM_ONLY_LOG, ['npm ERR! checkout@2.1.0 build: `make bundle`', 'npm ERR! Exit status 2']],
    ['node require (the demo build)', DEMO_BUILD_OUTPUT, ["Error: Cannot find module './shipping-rules'", 'at Object.<anonymous> (src/pricing.js:3:27)']],
  ])('finds the error lines of a %s log', (_shape, log, expected) => {
    expect(extractBuildErrors(log)).toEqual({ lines: expected, recognized: true });
  });

  it('falls back to the last lines of a log it does not recognize', () => {
    const log = ['step 1/4', 'step 2/4', 'step 3/4', 'step 4/4', '', 'bundling 212 modules', 'make: *** [bundle] Terminated', 'exit status 137', ''].join('\n');
    expect(extractBuildErrors(log)).toEqual({ lines: ['step 3/4', 'step 4/4', 'bundling 212 modules', 'make: *** [bundle] Terminated', 'exit status 137'], recognized: false });
  });

  it('keeps the excerpt bounded however many errors the log holds', () => {
    const log = Array.from({ length: 500 }, (_, i) => `src/f${i}.ts(1,1): error TS2304: Cannot find name 'x${i}'.`).join('\n');
    const { lines } = extractBuildErrors(log);
    expect(lines).toHaveLength(20);
    expect(lines.join('\n').length).toBeLessThanOrEqual(3_000);
  });
});

const deploy = (overrides: Partial<DeployEvent> = {}): DeployEvent => ({
  service: 'checkout-service',
  revision: '41c7b48645836fe33e6f1061df641fc4e8eded62',
  previousRevision: '4de00ec4c4cb86191b62fe96924a3bbf12de49a0',
  environment: 'production',
  deployedAt: '2026-11-20T10:02:00.000Z',
  build: { status: 'failure', log: DEMO_BUILD_OUTPUT, logUrl: 'https://ci.example.com/runs/812' },
  source: 'webhook',
  ...overrides,
});
const DIFF = `diff --git a/src/pricing.js b/src/pricing.js
index 30489cb..c59fee2 100644
--- a/src/pricing.js
+++ b/src/pricing.js
@@ -1,5 +1,7 @@
+const { shippingCents } = require('./shipping-rules');
diff --git a/src/shipping.js b/src/shipping.js
new file mode 100644
--- /dev/null
+++ b/src/shipping.js
@@ -0,0 +1 @@
+module.exports = {};
`;

describe('alertFromBuildFailure', () => {
  it('makes the deploy an alert on the service, one cycle per revision, the error as its message', () => {
    const alert = alertFromBuildFailure(deploy(), { watchId: 'deploy-watch-checkout-service-41c7b48', diff: DIFF });
    expect(NormalizedAlert.parse(alert)).toEqual(alert);
    expect(alert).toMatchObject({
      monitorId: 'deploy:checkout-service',
      alertCycleKey: 'build-41c7b48645836fe33e6f1061df641fc4e8eded62',
      title: 'Build failed: checkout-service at 41c7b4864583',
      message: "Error: Cannot find module './shipping-rules'\nat Object.<anonymous> (src/pricing.js:3:27)",
      service: 'checkout-service',
      deployedRevision: '41c7b48645836fe33e6f1061df641fc4e8eded62',
      occurredAt: '2026-11-20T10:02:00.000Z',
      link: 'https://ci.example.com/runs/812',
      tags: ['service:checkout-service', 'git.commit.sha:41c7b48645836fe33e6f1061df641fc4e8eded62', 'env:production'],
    });
    expect(alert.buildFailure).toEqual({
      watchId: 'deploy-watch-checkout-service-41c7b48',
      revision: '41c7b48645836fe33e6f1061df641fc4e8eded62',
      previousRevision: '4de00ec4c4cb86191b62fe96924a3bbf12de49a0',
      signature: "Error: Cannot find module './shipping-rules'",
      errorExcerpt: alert.message,
      log: DEMO_BUILD_OUTPUT,
      logUrl: 'https://ci.example.com/runs/812',
      diffSinceLastDeploy: DIFF,
    });
  });

  it('keeps the end of a long log and the start of a long diff', () => {
    const longLog = `${'compiling…\n'.repeat(5_000)}${NODE_SYNTAX_LOG}`;
    const alert = alertFromBuildFailure(deploy({ build: { status: 'failure', log: longLog, logUrl: null } }), { watchId: 'w', diff: DIFF.repeat(1_000) });
    expect(alert.buildFailure!.log!.length).toBeLessThan(BUILD_LOG_TAIL_CHARS + 100);
    expect(alert.buildFailure!.log!.endsWith('Process completed with exit code 1.')).toBe(true);
    expect(alert.buildFailure!.diffSinceLastDeploy!.startsWith('diff --git a/src/pricing.js')).toBe(true);
    expect(alert.buildFailure!.diffSinceLastDeploy!.length).toBeLessThan(BUILD_DIFF_MAX_CHARS + 100);
    expect(alert.buildFailure!.signature).toBe('SyntaxError: missing ) after argument list');
    expect(alert.link).toBe('');
  });

  it('says so when the deploy sent no log', () => {
    const alert = alertFromBuildFailure(deploy({ build: { status: 'failure', log: null, logUrl: 'https://ci.example.com/runs/9' }, previousRevision: null }), { watchId: 'w', diff: null });
    expect(alert.message).toBe('The build of checkout-service at 41c7b4864583 failed; the deploy sent no build log (see https://ci.example.com/runs/9).');
    expect(alert.buildFailure).toMatchObject({ errorExcerpt: '', log: null, diffSinceLastDeploy: null, previousRevision: null, signature: 'build failed: checkout-service' });
  });
});

describe('triageOfBuildFailure', () => {
  it('is real and points at the files the error names and the latest change touched', () => {
    const alert = alertFromBuildFailure(deploy(), { watchId: 'w', diff: DIFF });
    const triage = triageOfBuildFailure(alert.buildFailure!);
    expect(triage).toMatchObject({ verdict: 'real', severity: 'P2', duplicateOf: null, monitorTuning: null });
    expect(triage.suspectedArea.files).toEqual(['src/pricing.js', 'src/shipping.js']);
    expect(triage.reasoning).toContain('4de00ec4c4cb..41c7b4864583');
    expect(triage.confidence).toBeGreaterThan(triageOfBuildFailure({ ...alert.buildFailure!, diffSinceLastDeploy: null }).confidence);
  });

  it("takes a CI runner's absolute path for the changed file it ends with", () => {
    const alert = alertFromBuildFailure(deploy({ build: { status: 'failure', log: NODE_SYNTAX_LOG, logUrl: null } }), { watchId: 'w', diff: DIFF });
    expect(triageOfBuildFailure(alert.buildFailure!).suspectedArea.files).toEqual(['src/pricing.js', 'src/shipping.js']);
  });

  it('names files of a tsc log even without a diff', () => {
    expect(suspectedFilesOfBuildFailure({ errorExcerpt: extractBuildErrors(TSC_LOG).lines.join('\n'), diffSinceLastDeploy: null })).toEqual(['src/pricing.ts', 'src/server.ts']);
  });
});

describe('matchBuildFailure', () => {
  it('matches the same error printed from another checkout', () => {
    const ci = extractBuildErrors(NODE_SYNTAX_LOG).lines.join('\n');
    const sandbox = `/var/lib/steward/sandboxes/incident-1/src/pricing.js:10\n  return Math.round((subtotal * coupon.percent) / 100;\n   ^\n\nSyntaxError: missing ) after argument list\n    at wrapSafe (node:internal/modules/cjs/loader:1378:20)`;
    expect(matchBuildFailure(ci, sandbox)).toEqual({ matched: true, explanation: "The build fails with the build log's error: SyntaxError: missing ) after argument list" });
  });

  it('matches a tsc error at a moved line', () => {
    const ci = extractBuildErrors(TSC_LOG).lines.join('\n');
    expect(matchBuildFailure(ci, "src/server.ts(4,26): error TS2307: Cannot find module './coupon' or its corresponding type declarations.").matched).toBe(true);
  });

  it('refuses a build that fails for another reason', () => {
    const ci = extractBuildErrors(DEMO_BUILD_OUTPUT).lines.join('\n');
    const match = matchBuildFailure(ci, 'build: src/coupons.js does not compile\nSyntaxError: Unexpected token }');
    expect(match.matched).toBe(false);
    expect(match.explanation).toBe(`The build fails, but not with the build log's error (expected "Error: Cannot find module './shipping-rules'"; it printed "SyntaxError: Unexpected token }").`);
  });

  it('refuses another module missing', () => {
    const ci = extractBuildErrors(DEMO_BUILD_OUTPUT).lines.join('\n');
    expect(matchBuildFailure(ci, "Error: Cannot find module './coupon-rules'\n    at Object.<anonymous> (src/server.js:5:1)").matched).toBe(false);
  });

  it('takes the failure alone when the deploy sent no log, and says so', () => {
    expect(matchBuildFailure('', 'anything')).toEqual({ matched: true, explanation: 'The build fails; the deploy sent no build log, so its error could not be compared.' });
  });
});
