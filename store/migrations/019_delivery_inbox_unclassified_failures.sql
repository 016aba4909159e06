-- The dead-letter limit (STEWARD_INBOX_DEAD_AFTER_ATTEMPTS) counts only the relay's failures for no
-- known reason: attempts (017) also counts a Temporal outage's transient failures, and a delivery
-- that waited out a long outage must not be set aside by the first odd error after it.
-- `steward inbox retry` resets it with attempts.
ALTER TABLE delivery_inbox ADD COLUMN unclassified_failures integer NOT NULL DEFAULT 0;
