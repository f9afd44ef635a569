-- The initiating process's parent as Defender names it, so graph mode can tell a recycled parent pid apart.
-- Rows stored before this migration keep NULL here (their raw records still hold the values).
ALTER TABLE device_events ADD COLUMN initiating_process_parent_creation_time text;
ALTER TABLE device_events ADD COLUMN initiating_process_parent_file_name text;
ALTER TABLE device_network_events ADD COLUMN initiating_process_parent_creation_time text;
ALTER TABLE device_network_events ADD COLUMN initiating_process_parent_file_name text;
