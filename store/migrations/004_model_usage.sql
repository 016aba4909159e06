-- Every model call made for an incident, with its tokens and cost: what the incident spent, and
-- what its budget is checked against.
CREATE TABLE model_usage (
  id            bigserial PRIMARY KEY,
  incident_id   text NOT NULL,
  step          text NOT NULL,
  provider      text NOT NULL,
  model         text NOT NULL,
  input_tokens  integer NOT NULL,
  output_tokens integer NOT NULL,
  cost_usd      numeric(12, 6),
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_usage_incident_idx ON model_usage (incident_id);
