-- The QA ledger (ports/qa-ledger.port.ts): every nightly QA run of a service and each of its
-- missions, what they read, ran and wrote, what they found and what they cost. The next night's
-- plan reads it: areas explored recently rank low, missions run last night are not run again on an
-- unchanged repository.
CREATE TABLE qa_nights (
  night_id     text PRIMARY KEY,
  service      text NOT NULL,
  night        text NOT NULL,
  revision     text,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  status       text NOT NULL,
  budget_usd   double precision NOT NULL,
  cost_usd     double precision NOT NULL DEFAULT 0,
  -- The morning report as the night composed it (kept for a quiet night too); null while running.
  report       jsonb
);

CREATE INDEX qa_nights_by_service ON qa_nights (service, started_at DESC);

CREATE TABLE qa_missions (
  night_id       text NOT NULL REFERENCES qa_nights (night_id) ON DELETE CASCADE,
  mission_id     text NOT NULL,
  service        text NOT NULL,
  kind           text NOT NULL,
  reason         text NOT NULL,
  -- done, failed, or skipped-budget / skipped-limit (planned, not run).
  status         text NOT NULL,
  areas          text[] NOT NULL,
  files_read     text[] NOT NULL DEFAULT '{}',
  commands_run   text[] NOT NULL DEFAULT '{}',
  tests_written  text[] NOT NULL DEFAULT '{}',
  findings       jsonb NOT NULL DEFAULT '[]',
  leads          jsonb NOT NULL DEFAULT '[]',
  cost_usd       double precision NOT NULL DEFAULT 0,
  turns          integer NOT NULL DEFAULT 0,
  recorded_at    timestamptz NOT NULL,
  PRIMARY KEY (night_id, mission_id)
);

CREATE INDEX qa_missions_by_service ON qa_missions (service, recorded_at DESC);
