-- Sysmon events (ids 1, 3, 5, 8, 10) from any shipper shape, one table. device_id is `host:` + the lower-cased
-- host name, so one host is one device whatever shape its events came in. The acting process is
-- process_* (for 8 and 10 the source), target_* is the process acted on (8 and 10), parent_* comes from 1.
-- GUIDs are lower-case without braces; an image logged as `<unknown process>` is NULL.
CREATE TABLE sysmon_events (
  device_id             text        NOT NULL,
  event_key             text        NOT NULL,
  "timestamp"           timestamptz NOT NULL,
  timestamp_text        text        NOT NULL,
  device_name           text        NOT NULL,
  event_id              smallint    NOT NULL,
  action_type           text        NOT NULL,
  record_id             text,
  process_guid          text,
  process_id            bigint,
  image                 text,
  parent_process_guid   text,
  parent_process_id     bigint,
  parent_image          text,
  target_process_guid   text,
  target_process_id     bigint,
  target_image          text,
  initiated             boolean,
  protocol              text,
  source_ip             text,
  source_port           integer,
  destination_ip        text,
  destination_port      integer,
  granted_access        text,
  raw                   jsonb       NOT NULL,
  received_at           timestamptz NOT NULL,
  PRIMARY KEY (device_id, event_key)
);

-- Outbound connections by destination port (the ADWS port list), then device.
CREATE INDEX sysmon_events_connect_idx
  ON sysmon_events (destination_port, device_id)
  WHERE event_id = 3 AND initiated;

-- Processes acted on (8, 10), by pid and by GUID: the injection side of the correlation join.
CREATE INDEX sysmon_events_target_idx
  ON sysmon_events (device_id, target_process_id)
  WHERE event_id IN (8, 10);

CREATE INDEX sysmon_events_target_guid_idx
  ON sysmon_events (device_id, target_process_guid)
  WHERE event_id IN (8, 10);

-- Process creations by pid, to resolve GUIDs and names of processes logged as `<unknown process>`.
CREATE INDEX sysmon_events_create_idx
  ON sysmon_events (device_id, process_id)
  WHERE event_id = 1;

-- The host names a Defender device has reported (lower-cased DeviceName). A Sysmon host whose name a Defender
-- device carries is correlated in that device's graph (see src/detection/device-unit.resolver.ts).
CREATE TABLE device_names (
  device_id  text NOT NULL,
  name_lower text NOT NULL,
  PRIMARY KEY (device_id, name_lower)
);

CREATE INDEX device_names_name_idx ON device_names (name_lower);

-- Names as hostNameKey writes them (src/vocabulary/graph.vocabulary.ts): trimmed, lower-cased, one trailing dot off.
INSERT INTO device_names (device_id, name_lower)
SELECT device_id, name_lower FROM (
  SELECT device_id, regexp_replace(lower(btrim(device_name)), '\.$', '') AS name_lower FROM device_events
  UNION
  SELECT device_id, regexp_replace(lower(btrim(device_name)), '\.$', '') FROM device_network_events
) AS named
WHERE name_lower <> ''
ON CONFLICT DO NOTHING;
