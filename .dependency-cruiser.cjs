/**
 * Steward's layer rules, checked by `npm test` (scripts/check-layers.test.ts). Each rule names the
 * boundary it keeps; README "Layers" says why the boundaries are where they are.
 *
 * Tests (`*.test.ts`, `*.contract.ts`, `test/**`) may reach across layers to build what they test.
 */
const fs = require('node:fs');

const TESTS = '(\\.test\\.ts$|\\.contract\\.ts$|^test/)';
/** Adapters: one per provider behind a port; only the composition root builds them. */
const ADAPTERS = '(\\.adapter\\.ts$|\\.driver\\.ts$)';
/** A path pattern for these top-level folders. */
const folders = (...names) => `^(${names.join('|')})/`;

/** Production modules matching `from` may not import modules matching `to`. */
function forbid(name, comment, from, to, fromNot = TESTS, toNot = undefined) {
  return { name, severity: 'error', comment, from: { ...(from ? { path: from } : {}), pathNot: fromNot }, to: { path: to, ...(toNot ? { pathNot: toNot } : {}) } };
}

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.', from: {}, to: { circular: true } },
    forbid(
      'domain-is-pure',
      'domain/ is the vocabulary everything else speaks; it imports nothing of Steward outside itself.',
      '^domain/',
      folders('contracts', 'ports', 'config', 'workflows', 'activities', 'adapters', 'sandbox', 'store', 'workers', 'api', 'cli', 'use-cases', 'infra', 'scripts', 'evals', 'test'),
    ),
    forbid(
      'ports-speak-domain',
      "A port is an interface in the domain's terms: it may use domain/ and contracts/ only.",
      '(^ports/|\\.port\\.ts$)',
      folders('config', 'workflows', 'activities', 'adapters', 'sandbox', 'store', 'workers', 'api', 'cli', 'use-cases', 'infra', 'scripts', 'evals', 'test'),
      TESTS,
      '\\.port\\.ts$',
    ),
    forbid(
      'contracts-speak-domain',
      'contracts/ names what crosses processes; it is shared by workflows, so it stays free of I/O layers.',
      '^contracts/',
      folders('config', 'workflows', 'activities', 'adapters', 'sandbox', 'store', 'workers', 'api', 'cli', 'use-cases', 'infra', 'scripts', 'evals', 'test'),
    ),
    forbid(
      'adapter-stands-alone',
      'An adapter implements a port for one provider: it imports no other adapter, no activity and no worker.',
      ADAPTERS,
      `(${ADAPTERS}|${folders('activities', 'workers', 'workflows', 'api', 'cli', 'use-cases')})`,
    ),
    forbid(
      'activities-take-settings-through-factories',
      'Activities are factories over ports: their settings come through the factory, never from config/.',
      '^activities/',
      folders('config', 'workers', 'api', 'cli', 'infra', 'scripts'),
    ),
    {
      ...forbid('adapters-built-in-workers-only', 'workers/ is the one composition root: everything else receives adapters through ports.', undefined, ADAPTERS, `(^workers/|${TESTS}|${ADAPTERS})`),
      // A type says what an adapter returns; only a value import can build one.
      to: { path: ADAPTERS, dependencyTypesNot: ['type-only'] },
    },
    forbid(
      'workflows-reach-world-through-activities',
      'Workflows are deterministic: they use contracts/, domain/ and other workflow modules, and activities by type only.',
      '^workflows/',
      folders('config', 'adapters', 'sandbox', 'store', 'workers', 'api', 'cli', 'use-cases', 'infra', 'scripts', 'evals'),
    ),
    forbid(
      'edges-go-through-use-cases',
      'The HTTP edge and the CLI start, signal, update or query workflows only through use-cases/; they never run activities.',
      folders('api', 'cli'),
      folders('activities', 'workflows'),
    ),
    forbid(
      'lib-is-standalone',
      'lib/ holds small, Steward-agnostic helpers (git, quoting, timeouts): it imports nothing of Steward.',
      '^lib/',
      folders('contracts', 'domain', 'ports', 'config', 'workflows', 'activities', 'adapters', 'sandbox', 'store', 'workers', 'api', 'cli', 'use-cases', 'infra', 'scripts', 'evals', 'test'),
    ),
    forbid(
      'use-cases-address-workflows-by-contract',
      'A use case starts, signals, updates or queries workflows by the names in contracts/; it loads no workflow, activity or adapter code.',
      '^use-cases/',
      folders('workflows', 'activities', 'adapters', 'sandbox', 'workers', 'api', 'cli', 'infra', 'scripts'),
    ),
    forbid(
      'observability-over-ports',
      'observability/ holds the metrics registry, the tracer setup and the observing decorators: it speaks ports, contracts and lib, and builds no adapter, activity or worker, so that any layer with a port may be observed.',
      '^observability/',
      folders('config', 'workflows', 'activities', 'adapters', 'store', 'workers', 'api', 'cli', 'use-cases', 'infra', 'scripts', 'evals'),
    ),
    { ...forbid('nothing-imports-tests', 'Test support is for tests: production code that needs it needs a real module instead.', undefined, TESTS), from: { pathNot: TESTS } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|data|demo|\\.tools|coverage)/' },
    tsPreCompilationDeps: true,
    // The rules' own tests run it over small probe trees that have no tsconfig.
    ...(fs.existsSync('tsconfig.json') ? { tsConfig: { fileName: 'tsconfig.json' } } : {}),
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.cjs', '.json'] },
  },
};
