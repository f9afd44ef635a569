-- The two Defender advanced-hunting tables the correlation reads, one SQL table each.
-- Design rules, kept for a later Citus distribution by device_id: every primary key and unique index
-- includes device_id, no sequences, no triggers on device tables, no volatile functions in ON CONFLICT SET.
-- Typed columns carry what the correlation and the graph read; `raw` keeps the record as received.
-- `timestamp` is for ordering and ranges (microseconds); `timestamp_text` is the canonical ISO text with
-- all seven fractional digits of the source.

CREATE TABLE device_events (
  device_id                        text        NOT NULL,
  event_key                        text        NOT NULL,
  "timestamp"                      timestamptz NOT NULL,
  timestamp_text                   text        NOT NULL,
  device_name                      text,
  report_id                        text,
  action_type                      text        NOT NULL,
  file_name                        text,
  folder_path                      text,
  process_id                       bigint,
  process_creation_time            text,
  process_unique_id                text,
  initiating_process_id            bigint,
  initiating_process_file_name     text,
  initiating_process_folder_path   text,
  initiating_process_creation_time text,
  initiating_process_parent_id     bigint,
  initiating_process_unique_id     text,
  raw                              jsonb       NOT NULL,
  received_at                      timestamptz NOT NULL,
  PRIMARY KEY (device_id, event_key)
);

-- Injection targets: (device, target pid, lower-cased image name) of the eight injection action types,
-- compared without case. The predicate must stay identical to the one in src/database/event.queries.ts.
CREATE INDEX device_events_injection_target_idx
  ON device_events (device_id, process_id, lower(file_name))
  WHERE lower(action_type) IN (
    'createremotethreadapicall',
    'memoryremoteprotect',
    'ntallocatevirtualmemoryapicall',
    'ntallocatevirtualmemoryremoteapicall',
    'ntmapviewofsectionremoteapicall',
    'ntprotectvirtualmemoryapicall',
    'setthreadcontextremoteapicall',
    'queueuserapcremoteapicall'
  );

CREATE TABLE device_network_events (
  device_id                        text        NOT NULL,
  event_key                        text        NOT NULL,
  "timestamp"                      timestamptz NOT NULL,
  timestamp_text                   text        NOT NULL,
  device_name                      text,
  report_id                        text,
  action_type                      text        NOT NULL,
  remote_ip                        text,
  remote_port                      integer,
  remote_url                       text,
  local_ip                         text,
  local_port                       integer,
  protocol                         text,
  initiating_process_id            bigint,
  initiating_process_file_name     text,
  initiating_process_folder_path   text,
  initiating_process_creation_time text,
  initiating_process_parent_id     bigint,
  initiating_process_unique_id     text,
  raw                              jsonb       NOT NULL,
  received_at                      timestamptz NOT NULL,
  PRIMARY KEY (device_id, event_key)
);

-- Successful connections by remote port (the ADWS port list), then device.
CREATE INDEX device_network_events_port_idx
  ON device_network_events (remote_port, device_id)
  WHERE action_type = 'ConnectionSuccess';

-- Connection initiators: (device, pid, lower-cased image name), the other side of the injection join.
CREATE INDEX device_network_events_initiator_idx
  ON device_network_events (device_id, initiating_process_id, lower(initiating_process_file_name));
