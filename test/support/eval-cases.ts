import type { AttributionCaseInput, TriageCaseInput } from '../../evals/cases/case.schema';

/** Small valid cases for the store's and the CLI's tests; each test changes what it is about. */

export function triageCase(id: string, overrides: Partial<TriageCaseInput> = {}): TriageCaseInput {
  return {
    id,
    description: 'A checkout error after a deploy.',
    difficulty: 'easy',
    categories: ['code-bug'],
    provenance: { kind: 'hand_written', author: 'steward-evals' },
    input: {
      webhook: {
        monitor_id: '4401001',
        alert_cycle_key: `${id}-cycle`,
        transition: 'Triggered',
        title: '[Triggered] checkout-service: unhandled errors on POST /checkout',
        message: 'TypeError: Cannot read properties of undefined',
        tags: 'service:checkout-service,env:production',
        date: '1795269600000',
      },
      monitor: {
        id: '4401001',
        name: 'checkout-service errors',
        type: 'log alert',
        query: 'logs("service:checkout-service status:error").index("*").rollup("count").last("5m") > 20',
        message: '',
        tags: ['service:checkout-service'],
        criticalThreshold: 20,
        evaluationWindow: 'last_5m',
      },
    },
    labels: { verdict: 'real', severity: 'P1', duplicateOf: null, facts: ['checkout fails for orders without a coupon'] },
    ...overrides,
  };
}

export function attributionCase(id: string, overrides: Partial<AttributionCaseInput> = {}): AttributionCaseInput {
  return {
    id,
    description: 'A docs-only deploy while errors rose.',
    difficulty: 'easy',
    categories: ['non-runtime-only'],
    provenance: { kind: 'hand_written', author: 'steward-evals' },
    input: {
      service: 'checkout-service',
      deploys: [
        {
          revision: 'b'.repeat(40),
          previousRevision: 'a'.repeat(40),
          diffText: ['diff --git a/README.md b/README.md', '--- a/README.md', '+++ b/README.md', '@@ -1 +1,2 @@', ' # checkout', '+Run npm test.', ''].join('\n'),
        },
      ],
      flagged: [{ signature: 'sig-1', template: 'timeout calling <*>', sample: { message: 'timeout calling payments', stackTrace: null }, baselineCount: 1, afterCount: 40 }],
    },
    labels: { verdict: 'not_caused', citedLine: null, facts: ['the deploy changes documentation only'] },
    ...overrides,
  };
}
