-- Webhooks: endpoints that receive alert changes (created, updated, status), chosen per endpoint by `events`.
-- The secret is stored as given, not hashed: every delivery is signed with it (HMAC-SHA256), so it has to be
-- recoverable. The API returns it once, in the reply to the POST that creates the webhook, and never again.
-- TODO: encrypt secrets at rest with a key from the environment; today a database dump exposes them.
CREATE TABLE webhooks (
  id         uuid        PRIMARY KEY,
  name       text        NOT NULL,
  url        text        NOT NULL,
  secret     text        NOT NULL,
  events     text[]      NOT NULL,
  active     boolean     NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL,
  created_by text        NOT NULL,
  updated_at timestamptz NOT NULL
);

-- The outbox: one row per (webhook, alert change), inserted in the transaction that writes the change, so a
-- change and its deliveries commit or roll back together. `id` is the delivery id receivers dedupe on; `body` is
-- the exact text sent, fixed at enqueue so every retry sends the same bytes. A pending row is due at
-- `next_attempt_at`; the dispatcher leases a row by moving that time forward before it sends.
CREATE TABLE webhook_deliveries (
  id              uuid        PRIMARY KEY,
  webhook_id      uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_type      text        NOT NULL,
  alert_id        uuid        NOT NULL,
  sequence        bigint      NOT NULL,
  body            text        NOT NULL,
  state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  last_status     integer,
  last_error      text,
  created_at      timestamptz NOT NULL,
  delivered_at    timestamptz,
  -- One delivery per change and webhook: enqueueing a change twice writes nothing the second time. It also
  -- serves the listing of one webhook's deliveries, which pages by sequence.
  CONSTRAINT webhook_deliveries_change_key UNIQUE (webhook_id, sequence)
);

-- The dispatcher's "due" query: pending rows by next attempt time.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
