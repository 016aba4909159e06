/**
 * Steward's layer rules, checked by `npm test` (scripts/check-dependencies.sh). Each rule names
 * the boundary it keeps; README "Layers" says why the boundaries are where they are.
 *
 * Tests (`*.test.ts`, `*.contract.ts`, `test/**`) may reach across layers to build what they test.
 */
const fs = require('node:fs');

const TESTS = '(\\.test\\.ts$|\\.contract\\.ts$|^test/)';
/** Adapters: one per provider behind a port; only the composition root builds them. */
const ADAPTERS = '(\\.adapter\\.ts$|\\.driver\\.ts$)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain/ is the vocabulary everything else speaks; it imports nothing of Steward outside itself.',
      from: { path: '^domain/', pathNot: TESTS },
      to: { path: '^(contracts|ports|config|workflows|activities|adapters|sandbox|store|workers|api|cli|use-cases|infra|scripts|evals|test)/' },
    },
    {
      name: 'ports-speak-domain',
      severity: 'error',
      comment: 'A port is an interface in the domain\'s terms: it may use domain/ and contracts/ only.',
      from: { path: '(^ports/|\\.port\\.ts$)', pathNot: TESTS },
      to: { path: '^(config|workflows|activities|adapters|sandbox|store|workers|api|cli|use-cases|infra|scripts|evals|test)/', pathNot: '\\.port\\.ts$' },
    },
    {
      name: 'contracts-speak-domain',
      severity: 'error',
      comment: 'contracts/ names what crosses processes; it is shared by workflows, so it stays free of I/O layers.',
      from: { path: '^contracts/', pathNot: TESTS },
      to: { path: '^(config|workflows|activities|adapters|sandbox|store|workers|api|cli|use-cases|infra|scripts|evals|test)/' },
    },
    {
      name: 'adapter-stands-alone',
      severity: 'error',
      comment: 'An adapter implements a port for one provider: it imports no other adapter, no activity and no worker.',
      from: { path: ADAPTERS, pathNot: TESTS },
      to: { path: `(${ADAPTERS}|^activities/|^workers/|^workflows/|^api/|^cli/|^use-cases/)` },
    },
    {
      name: 'activities-take-settings-through-factories',
      severity: 'error',
      comment: 'Activities are factories over ports: their settings come through the factory, never from config/.',
      from: { path: '^activities/', pathNot: TESTS },
      to: { path: '^(config|workers|api|cli|infra|scripts)/' },
    },
    {
      name: 'adapters-built-in-workers-only',
      severity: 'error',
      comment: 'workers/ is the one composition root: everything else receives adapters through ports.',
      from: { pathNot: `(^workers/|${TESTS}|${ADAPTERS})` },
      // A type says what an adapter returns; only a value import can build one.
      to: { path: ADAPTERS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflows-reach-world-through-activities',
      severity: 'error',
      comment: 'Workflows are deterministic: they use contracts/, domain/ and other workflow modules, and activities by type only.',
      from: { path: '^workflows/', pathNot: TESTS },
      to: { path: '^(config|adapters|sandbox|store|workers|api|cli|use-cases|infra|scripts|evals)/' },
    },
    {
      name: 'edges-go-through-use-cases',
      severity: 'error',
      comment: 'The HTTP edge and the CLI start, signal, update or query workflows only through use-cases/; they never run activities.',
      from: { path: '^(api|cli)/', pathNot: TESTS },
      to: { path: '^(activities|workflows)/' },
    },
    {
      name: 'lib-is-standalone',
      severity: 'error',
      comment: 'lib/ holds small, Steward-agnostic helpers (git, quoting, timeouts): it imports nothing of Steward.',
      from: { path: '^lib/', pathNot: TESTS },
      to: { path: '^(contracts|domain|ports|config|workflows|activities|adapters|sandbox|store|workers|api|cli|use-cases|infra|scripts|evals|test)/' },
    },
    {
      name: 'use-cases-address-workflows-by-contract',
      severity: 'error',
      comment: 'A use case starts, signals, updates or queries workflows by the names in contracts/; it loads no workflow, activity or adapter code.',
      from: { path: '^use-cases/', pathNot: TESTS },
      to: { path: '^(workflows|activities|adapters|sandbox|workers|api|cli|infra|scripts)/' },
    },
    {
      name: 'nothing-imports-tests',
      severity: 'error',
      comment: 'Test support is for tests: production code that needs it needs a real module instead.',
      from: { pathNot: TESTS },
      to: { path: TESTS },
    },
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
