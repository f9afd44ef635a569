-- The API key behind each analyst change, beside its name: names are labels, the id is who it was.
ALTER TABLE alert_changes ADD COLUMN actor_key_id uuid;

-- One usable name per key among keys not revoked, so a history's actor name points at one key at a time.
CREATE UNIQUE INDEX api_keys_active_name_idx ON api_keys (lower(name)) WHERE revoked_at IS NULL;
