-- The incident ledger: what Steward received, decided and did, queryable after the workflow is gone.
-- Child tables carry no foreign key to incidents: activities write them independently and in any
-- order, and an event must never be refused because its incident row has not been saved yet.

CREATE TABLE incidents (
  incident_id  text PRIMARY KEY,
  run_id       text NOT NULL,
  monitor_id   text NOT NULL,
  service      text,
  title        text NOT NULL,
  signature    text NOT NULL,
  status       text NOT NULL,
  verdict      text,
  severity     text,
  confidence   double precision,
  duplicate_of text,
  pr_url       text,
  deliveries   integer NOT NULL,
  recovered    boolean NOT NULL,
  -- The whole IncidentState; the columns above are copies of it for filtering and reporting.
  state        jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_monitor_id_idx ON incidents (monitor_id);
CREATE INDEX incidents_status_idx ON incidents (status);
-- Duplicate detection looks for recent incidents of the same service as well as the same monitor.
CREATE INDEX incidents_service_idx ON incidents (service);

CREATE TABLE incident_events (
  incident_id text NOT NULL,
  seq         integer NOT NULL,
  kind        text NOT NULL,
  at          timestamptz NOT NULL,
  data        jsonb NOT NULL,
  PRIMARY KEY (incident_id, seq)
);

CREATE TABLE fix_attempts (
  incident_id    text NOT NULL,
  attempt        integer NOT NULL,
  verified       boolean NOT NULL,
  failure_reason text,
  diff           text NOT NULL,
  evidence       jsonb NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, attempt)
);

-- One decision per incident. Rejections keep the proposed diff: they are preference data for evals.
CREATE TABLE approval_decisions (
  incident_id   text PRIMARY KEY,
  decision      text NOT NULL CHECK (decision IN ('approve', 'reject', 'timed_out')),
  decided_by    text NOT NULL,
  reason        text NOT NULL,
  proposed_diff text NOT NULL,
  decided_at    timestamptz NOT NULL
);

CREATE TABLE monitor_changes (
  incident_id text NOT NULL,
  monitor_id  text NOT NULL,
  action      text NOT NULL CHECK (action IN ('tuned', 'deleted')),
  before      jsonb NOT NULL,
  after       jsonb NOT NULL,
  reason      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, monitor_id, action)
);

-- A row is claimed before a notification is sent and marked delivered after; a claimed row that
-- was never delivered means the sender crashed in between, and the next attempt sends again.
CREATE TABLE notification_outbox (
  key          text PRIMARY KEY,
  incident_id  text NOT NULL,
  kind         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('claimed', 'delivered')),
  ref          text,
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX notification_outbox_incident_id_idx ON notification_outbox (incident_id);
