/**
 * Which test sets a marker for which secret of config/config.ts (SECRET_VARIABLES): the demo run of
 * test/e2e/secrets-never-leave.e2e.test.ts for the secrets it can carry on its embedded defaults, and
 * test/e2e/adapter-secrets-never-leave.test.ts for ADAPTER_SECRETS, those that would take the demo off
 * them: the Datadog keys as markers and the GitHub App key (inline and as a file) as a generated key,
 * through the real adapters the composition root builds, against loopback Datadog and GitHub; the
 * Temporal TLS client key (inline and as a file) through an mTLS front before the dev server. The
 * adapters test runs no incident, so the incident's export and traces are scanned for DEMO_SECRETS
 * only. The e2e test holds the two lists, together, to SECRET_VARIABLES.
 */
export const DEMO_SECRETS = ['STEWARD_WEBHOOK_TOKEN', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'TEMPORAL_API_KEY', 'GITHUB_WEBHOOK_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'DATABASE_URL'] as const;

export const ADAPTER_SECRETS = ['DATADOG_API_KEY', 'DATADOG_APP_KEY', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_FILE', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_CLIENT_KEY_PATH'] as const;
