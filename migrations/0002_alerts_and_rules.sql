-- Alerts derived by the detector, one row per (rule, device, device name, target process).
-- The id is derived from that key, so a re-derived alert keeps its id; the content is replaced and the
-- revision bumped only when the evidence changes.
CREATE TABLE alerts (
  device_id      text        NOT NULL,
  id             uuid        NOT NULL,
  rule_id        text        NOT NULL,
  device_name    text        NOT NULL,
  process_id     bigint      NOT NULL,
  file_name      text        NOT NULL,
  status         text        NOT NULL,
  severity       text        NOT NULL,
  timestamp_text text        NOT NULL,
  content        jsonb       NOT NULL,
  content_hash   text        NOT NULL,
  revision       integer     NOT NULL,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (device_id, id)
);

CREATE INDEX alerts_id_idx ON alerts (id);
CREATE INDEX alerts_order_idx ON alerts (timestamp_text, id);
CREATE INDEX alerts_device_order_idx ON alerts (device_id, timestamp_text, id);

-- Settings of each rule, as validated JSON. A rule without a row runs on its defaults.
CREATE TABLE rule_settings (
  rule_id    text        PRIMARY KEY,
  settings   jsonb       NOT NULL,
  updated_at timestamptz NOT NULL
);
