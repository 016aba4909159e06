/**
 * Which test sets a marker for which secret of config/config.ts (SECRET_VARIABLES): the demo run of
 * test/e2e/secrets-never-leave.e2e.test.ts for the secrets it can carry on its embedded defaults, and
 * ADAPTER_SECRETS for those that would take the demo off them (Datadog, the GitHub App, Temporal's TLS
 * key). No test sets markers for these yet: a test of the real adapters against loopback servers is
 * the open part of issue 13. The e2e test holds the two lists, together, to SECRET_VARIABLES.
 */
export const DEMO_SECRETS = ['STEWARD_WEBHOOK_TOKEN', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'TEMPORAL_API_KEY', 'GITHUB_WEBHOOK_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'DATABASE_URL'] as const;

export const ADAPTER_SECRETS = ['DATADOG_API_KEY', 'DATADOG_APP_KEY', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_FILE', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_CLIENT_KEY_PATH'] as const;
