-- Large Temporal payloads (diffs, command output, the incident state at each checkpoint), kept
-- here by the claim-check payload codec so that the workflow history holds a reference instead.
-- Keyed by content hash: the same payload stored twice is one row.
CREATE TABLE payload_blobs (
  key        text PRIMARY KEY,
  data       bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
