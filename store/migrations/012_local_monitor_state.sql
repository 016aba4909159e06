-- The local monitor evaluator (activities/local-monitors/): each embedded monitor's state, and an
-- outbox of its transitions, written in the same transaction as the state change that makes them.
CREATE TABLE local_monitor_states (
  monitor_id      text PRIMARY KEY,
  state           text NOT NULL DEFAULT 'OK' CHECK (state IN ('OK', 'Alert')),
  -- The cycle the monitor is in while in Alert, and the one it last left while OK; null before its first trigger.
  alert_cycle_key text,
  -- The last tick decided: a tick at or before it is not evaluated again, so that a retried or
  -- restarted evaluation makes no second transition. Null until the first evaluation.
  last_tick       timestamptz,
  last_count      double precision,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (state = 'OK' OR alert_cycle_key IS NOT NULL)
);

CREATE TABLE local_monitor_transitions (
  id              bigserial PRIMARY KEY,
  monitor_id      text NOT NULL,
  alert_cycle_key text NOT NULL,
  transition      text NOT NULL CHECK (transition IN ('Triggered', 'Recovered')),
  tick            timestamptz NOT NULL,
  -- The body posted to POST /webhooks/datadog, as Datadog's webhook would post it.
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- A delivery in progress holds the row until then, so that two evaluations never post it together.
  lease_until     timestamptz,
  attempts        integer NOT NULL DEFAULT 0,
  last_status     integer,
  last_error      text,
  delivered_at    timestamptz,
  UNIQUE (monitor_id, alert_cycle_key, transition)
);

CREATE INDEX local_monitor_transitions_undelivered ON local_monitor_transitions (id) WHERE delivered_at IS NULL;
