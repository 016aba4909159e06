-- The fix agent's conversations, one message per row. Each model turn is its own activity, which
-- reads the conversation from here instead of carrying it through the workflow history; a retried
-- turn finds its answer already stored and does not pay for it again. workspace_diff is the
-- sandbox's change after a round of tools, to rebuild the workspace if its sandbox is lost.
CREATE TABLE agent_messages (
  incident_id    text NOT NULL,
  attempt        integer NOT NULL,
  seq            integer NOT NULL,
  message        jsonb NOT NULL,
  workspace_diff text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, attempt, seq)
);
