-- Every merged change monitor generation processed, with the runtime lines it added, whether or not
-- a monitor came of it (adapters/postgres-generated-monitors.adapter.ts, recordChange): the
-- denominator of `steward monitors density`'s coverage share, which the monitors alone cannot give.
CREATE TABLE generated_monitor_changes (
  repository        text NOT NULL,
  -- 'pr-<n>' or 'commit-<sha>', as generated_monitors.change_ref.
  change_ref        text NOT NULL,
  merge_commit      text NOT NULL,
  -- 'path:line' of each added runtime source line, at the merge commit.
  new_runtime_lines text[] NOT NULL,
  processed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (repository, change_ref)
);
CREATE INDEX generated_monitor_changes_by_time ON generated_monitor_changes (repository, processed_at);
