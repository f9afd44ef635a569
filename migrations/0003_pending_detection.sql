-- Devices whose newly stored events have not been correlated yet. A row is written in the same transaction
-- as the events and removed once detection has run for the device, so a crash between the two leaves it
-- here, and the next start-up detects it. `token` changes on every mark, so a detection run removes only
-- the marks it has seen.
CREATE TABLE pending_detection (
  device_id text PRIMARY KEY,
  token     uuid NOT NULL,
  queued_at timestamptz NOT NULL
);
