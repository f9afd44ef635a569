-- Alert triage: what analysts (SOAR playbooks) set. `status` stays the served status: the triage status, unless
-- the engine retracted the alert or a suppression holds an open one back (see alert.service.ts).
ALTER TABLE alerts ADD COLUMN triage_status text NOT NULL DEFAULT 'new';
ALTER TABLE alerts ADD COLUMN classification text;
ALTER TABLE alerts ADD COLUMN assigned_to text;

-- The change feed doubles as the audit trail: who made each change, what kind, which fields, and why.
-- Rows written before this migration were all the engine's; their kind and fields are unknown (NULL).
ALTER TABLE alert_changes ADD COLUMN actor text NOT NULL DEFAULT 'detection';
ALTER TABLE alert_changes ADD COLUMN change_type text;
ALTER TABLE alert_changes ADD COLUMN changes jsonb NOT NULL DEFAULT '{}';
ALTER TABLE alert_changes ADD COLUMN comment text;

-- API keys. Only the SHA-256 of a key is stored: keys are 256-bit random strings (or an operator's bootstrap key
-- of at least 24 characters), so a fast hash is enough and lets a request be matched with one index lookup.
CREATE TABLE api_keys (
  id                    uuid        PRIMARY KEY,
  name                  text        NOT NULL,
  key_hash              text        NOT NULL UNIQUE,
  -- The first characters of the key, shown in listings so an operator can tell keys apart.
  key_prefix            text        NOT NULL,
  scopes                text[]      NOT NULL,
  rate_limit_per_minute integer,
  created_at            timestamptz NOT NULL,
  created_by            text        NOT NULL,
  expires_at            timestamptz,
  revoked_at            timestamptz,
  last_used_at          timestamptz
);

CREATE INDEX api_keys_name_idx ON api_keys (name);
