-- The durable inbox of webhook deliveries (ports/inbox.port.ts). A delivery the API accepted while
-- Temporal did not answer is kept here, answered 202, and relayed to its workflow once Temporal is
-- back: in the order received (seq), once per delivery id (unique, and given to Temporal as the
-- signal-with-start's request id, so a relay that dies after Temporal took a row re-sends it
-- harmlessly). A relayed row keeps its outcome for the account; nothing is deleted here.
-- Numbered 017, two above the highest when it was written, so that a parallel 016 does not collide.
CREATE TABLE delivery_inbox (
  seq bigserial PRIMARY KEY,
  delivery_id text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('alert', 'deploy')),
  source text NOT NULL,
  workflow_id text NOT NULL,
  payload jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  relayed_at timestamptz,
  outcome text,
  last_error text
);
-- The relay reads the pending rows in order, and each workflow id's oldest pending row.
CREATE INDEX delivery_inbox_pending ON delivery_inbox (seq) WHERE relayed_at IS NULL;
CREATE INDEX delivery_inbox_pending_by_workflow ON delivery_inbox (workflow_id, seq) WHERE relayed_at IS NULL;
