-- Which running incident owns an error signature of a service (ports/incident-claims.port.ts):
-- the one row per (service, signature) is what makes a second road to the same error a duplicate.
CREATE TABLE incident_signature_claims (
  service     text NOT NULL,
  signature   text NOT NULL,
  incident_id text NOT NULL,
  source      text NOT NULL,
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, signature)
);

CREATE INDEX incident_signature_claims_by_incident ON incident_signature_claims (incident_id);
