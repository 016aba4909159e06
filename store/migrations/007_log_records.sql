-- Log records received on the OTLP/HTTP logs endpoint (POST /v1/logs): the embedded log store that
-- serves the logs port when Datadog is not configured. Every record is kept, whatever its severity;
-- Steward reads the error ones, service by service, in time order.
CREATE TABLE log_records (
  -- Insert order; with the timestamp, the key of keyset pagination (timestamps repeat).
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  service           text NOT NULL,
  -- The record's time (timeUnixNano, else observedTimeUnixNano, else when it arrived).
  timestamp         timestamptz NOT NULL,
  -- OTLP's SeverityNumber (0 unspecified, 1-4 trace … 17-20 error, 21-24 fatal) and its text as sent.
  severity_number   smallint NOT NULL DEFAULT 0,
  severity_text     text,
  -- severity_number >= 17, or a severity text of error or fatal: what `status:error` reads.
  is_error          boolean NOT NULL,
  message           text NOT NULL,
  attributes        jsonb NOT NULL DEFAULT '{}',
  resource_attributes jsonb NOT NULL DEFAULT '{}',
  trace_id          text,
  span_id           text,
  -- From the OpenTelemetry exception.* attributes when the record has them.
  exception_type    text,
  exception_message text,
  stack_trace       text,
  received_at       timestamptz NOT NULL DEFAULT now()
);

-- The reads Steward makes: a service's error logs in a window, oldest first, page after page.
CREATE INDEX log_records_errors_by_service ON log_records (service, timestamp, id) WHERE is_error;
-- Retention deletes the oldest records first, in batches.
CREATE INDEX log_records_by_timestamp ON log_records (timestamp);
