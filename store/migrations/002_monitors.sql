-- The embedded monitors store, used in place of Datadog when Datadog is not configured.
CREATE TABLE monitors (
  id                 text PRIMARY KEY,
  name               text NOT NULL,
  type               text NOT NULL,
  query              text NOT NULL,
  -- Datadog's `message`: the description users edit, where Steward keeps its PR links section.
  message            text NOT NULL DEFAULT '',
  tags               text[] NOT NULL DEFAULT '{}',
  critical_threshold double precision,
  evaluation_window  text,
  created_by_steward boolean NOT NULL DEFAULT false,
  -- Deletion is soft, so that a deleted monitor's definition stays on record for audits.
  deleted_at         timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
