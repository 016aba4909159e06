-- Dead letters of the durable inbox (ports/inbox.port.ts): a delivery Temporal refuses for what it
-- holds (a payload it will never take, an input that fails the start) is set aside at dead_at, its
-- error in last_error, instead of holding its workflow's later deliveries back and being retried
-- forever. attempts and last_error are 017's. A row is pending while relayed_at and dead_at are
-- both null; `steward inbox retry` clears dead_at (and attempts) to put it back in its place.
ALTER TABLE delivery_inbox ADD COLUMN dead_at timestamptz;
ALTER TABLE delivery_inbox ADD CONSTRAINT delivery_inbox_relayed_or_dead CHECK (relayed_at IS NULL OR dead_at IS NULL);
-- The relay's reads skip dead letters: the pending indexes are rebuilt over pending rows only.
DROP INDEX delivery_inbox_pending;
DROP INDEX delivery_inbox_pending_by_workflow;
CREATE INDEX delivery_inbox_pending ON delivery_inbox (seq) WHERE relayed_at IS NULL AND dead_at IS NULL;
CREATE INDEX delivery_inbox_pending_by_workflow ON delivery_inbox (workflow_id, seq) WHERE relayed_at IS NULL AND dead_at IS NULL;
CREATE INDEX delivery_inbox_dead ON delivery_inbox (seq) WHERE dead_at IS NOT NULL;
