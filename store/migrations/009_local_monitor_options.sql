-- Monitors the embedded store creates get numeric ids, as Datadog's are: the local evaluator posts
-- them in Datadog's webhook payload, whose monitor id Steward reads as a number. Far above the ids
-- of monitors seeded by hand or by the demo, so that a created one never takes a seeded id.
CREATE SEQUENCE local_monitor_ids START WITH 800000001;

-- A generated monitor's warning threshold and priority, as Datadog keeps them in its options.
ALTER TABLE monitors ADD COLUMN warning_threshold double precision, ADD COLUMN priority smallint CHECK (priority BETWEEN 1 AND 5);
