-- The one global order of alert changes, which the change feed reads: every write of an alert (created, new
-- evidence, status) appends a row here in the same transaction. Not a device table. Writers take one advisory
-- lock before drawing a number, so numbers become visible in the order they were drawn and a poller that keeps
-- the last number it saw never misses a change committed later.
CREATE SEQUENCE alert_change_seq;

CREATE TABLE alert_changes (
  seq        bigint      PRIMARY KEY,
  alert_id   uuid        NOT NULL,
  device_id  text        NOT NULL,
  revision   integer     NOT NULL,
  changed_at timestamptz NOT NULL
);

CREATE INDEX alert_changes_alert_idx ON alert_changes (alert_id, seq);

-- Alerts stored before the feed existed get one change each, oldest first.
INSERT INTO alert_changes (seq, alert_id, device_id, revision, changed_at)
SELECT nextval('alert_change_seq'), id, device_id, revision, updated_at
FROM (SELECT id, device_id, revision, updated_at FROM alerts ORDER BY updated_at, id) AS existing;
