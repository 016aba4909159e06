-- The registry of generated monitors (adapters/postgres-generated-monitors.adapter.ts): what each
-- monitor Steward generated came from, why proposals were dropped, and how each monitor fared. The
-- monitor platform (Datadog or the embedded store) holds the monitor; this holds its story.
CREATE TABLE generated_monitors (
  monitor_id          text PRIMARY KEY,
  -- The generation's workflow id and the proposal's key in it: a retried create finds its row.
  generation_id       text NOT NULL,
  proposal_key        text NOT NULL,
  repository          text NOT NULL,
  service             text NOT NULL,
  -- 'pr-<n>' or 'commit-<sha>'.
  change_ref          text NOT NULL,
  pull_request_number integer,
  source_sha          text NOT NULL,
  name                text NOT NULL,
  type                text NOT NULL,
  query               text NOT NULL,
  normalized_query    text NOT NULL,
  file                text NOT NULL,
  literals            text[] NOT NULL,
  covered_lines       text[] NOT NULL,
  critical            double precision NOT NULL,
  warning             double precision,
  threshold_source    text NOT NULL CHECK (threshold_source IN ('baseline', 'default', 'proposal')),
  evaluated_locally   boolean NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  retired_at          timestamptz,
  retired_reason      text,
  UNIQUE (generation_id, proposal_key),
  CHECK ((retired_at IS NULL) = (retired_reason IS NULL))
);
CREATE INDEX generated_monitors_active_by_repository ON generated_monitors (repository, created_at) WHERE retired_at IS NULL;
CREATE INDEX generated_monitors_active_by_service ON generated_monitors (service, created_at) WHERE retired_at IS NULL;

-- Proposals that did not become monitors, with the proposal as the model made it, for audits and evals.
CREATE TABLE generated_monitor_drops (
  id            bigserial PRIMARY KEY,
  generation_id text NOT NULL,
  repository    text NOT NULL,
  name          text NOT NULL,
  stage         text NOT NULL CHECK (stage IN ('schema', 'grounding', 'validation', 'duplicate', 'cap')),
  reason        text NOT NULL,
  proposal      jsonb,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
-- A retried record of the same drop is one drop; the reason is hashed, as it may be longer than an index entry takes.
CREATE UNIQUE INDEX generated_monitor_drops_once ON generated_monitor_drops (generation_id, name, stage, md5(reason));

-- Fires, noise verdicts and real incidents of generated monitors, each once per incident.
CREATE TABLE generated_monitor_outcomes (
  monitor_id  text NOT NULL REFERENCES generated_monitors (monitor_id) ON DELETE CASCADE,
  outcome     text NOT NULL CHECK (outcome IN ('fired', 'noise', 'real')),
  incident_id text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (monitor_id, outcome, incident_id)
);
