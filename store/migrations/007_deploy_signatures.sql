-- Error signatures per service, for the deploy watch (workflows/deploy-watch/).
-- signature_mining: the service's template miner (so signature ids stay stable from deploy to
-- deploy) and how far its error logs have been counted; a later deploy reads only what is newer.
CREATE TABLE signature_mining (
  service        text PRIMARY KEY,
  miner_state    jsonb NOT NULL,
  counted_until  timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Per-signature counts per clock hour. `count` is an estimate when the hour was sampled (more
-- error logs than the read cap allowed): then `sampled_fraction` < 1 says how much was read.
CREATE TABLE signature_hourly_counts (
  service          text NOT NULL,
  signature        text NOT NULL,
  hour             timestamptz NOT NULL,
  count            double precision NOT NULL,
  sampled_fraction double precision NOT NULL DEFAULT 1,
  PRIMARY KEY (service, signature, hour)
);
CREATE INDEX signature_hourly_counts_by_hour ON signature_hourly_counts (service, hour);

CREATE TABLE signature_templates (
  service     text NOT NULL,
  signature   text NOT NULL,
  template    text NOT NULL,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  PRIMARY KEY (service, signature)
);

-- Every deploy watched, for the triage's lookback over earlier deploys.
CREATE TABLE deploys (
  watch_id          text PRIMARY KEY,
  service           text NOT NULL,
  revision          text NOT NULL,
  previous_revision text,
  environment       text,
  deployed_at       timestamptz NOT NULL,
  verdict           text NOT NULL DEFAULT 'pending',
  recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deploys_by_service ON deploys (service, deployed_at DESC);

-- The live test of one watch between polls: kept here, not in the workflow history, because it
-- holds a few numbers for every signature of the service. poll_index makes a retried poll a no-op.
CREATE TABLE deploy_watch_tests (
  watch_id    text PRIMARY KEY,
  poll_index  integer NOT NULL,
  polled_until timestamptz NOT NULL,
  state       jsonb NOT NULL,
  last_result jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
