-- Per-entity suppressions: while one is in force, alerts on its entity are derived and stored but held back with
-- status `suppressed` (and the suppression recorded on them) instead of `new`. Not a device table: a suppression
-- may name a device or an image name on any device. Lifting one sets lifted_at; rows are never deleted.
CREATE TABLE suppressions (
  id           uuid        PRIMARY KEY,
  entity_type  text        NOT NULL,
  entity_value text        NOT NULL,
  reason       text        NOT NULL,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  lifted_at    timestamptz
);

CREATE INDEX suppressions_active_idx ON suppressions (expires_at) WHERE lifted_at IS NULL;
