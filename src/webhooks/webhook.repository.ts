import type { AlertChangeType } from '../alerts/alert-change.js';
import type { Database, Queryable } from '../database/database.js';
import type {
  AttemptResult,
  ClaimedDelivery,
  DeliveryState,
  WebhookDelivery,
  WebhookPatch,
  WebhookRecord,
} from './webhook.types.js';
import { isoOf, isoOrNull } from '../database/timestamps.js';

const WEBHOOK_COLUMNS = `id, name, url, secret, events, active, created_at, created_by, updated_at`;

const INSERT_WEBHOOK = `
  INSERT INTO webhooks (${WEBHOOK_COLUMNS})
  VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $7)
  RETURNING ${WEBHOOK_COLUMNS}`;

const SELECT_WEBHOOKS = `SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id`;

const SELECT_WEBHOOK = `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`;

/** Fields left NULL keep their value. */
const UPDATE_WEBHOOK = `
  UPDATE webhooks SET
    name = COALESCE($2, name), url = COALESCE($3, url), events = COALESCE($4::text[], events),
    active = COALESCE($5, active), updated_at = $6
  WHERE id = $1
  RETURNING ${WEBHOOK_COLUMNS}`;

/** Its deliveries go with it (ON DELETE CASCADE). */
const DELETE_WEBHOOK = `DELETE FROM webhooks WHERE id = $1`;

/**
 * The outbox write: one delivery for every active webhook whose filter includes the change type ($1), with a
 * fresh delivery id and the body text fixed now. $4 is the body's JSON without the two per-delivery fields; they
 * are spliced in front as text (uuids need no escaping), so the stored bytes are exactly what will be sent.
 * FOR KEY SHARE holds the chosen webhooks until the change commits: a webhook deleted meanwhile is either skipped
 * or its delete waits and then removes these deliveries with it, never a foreign-key error in the alert's write.
 */
const ENQUEUE = `
  WITH targets AS MATERIALIZED (
    SELECT gen_random_uuid() AS delivery_id, id AS webhook_id
    FROM webhooks
    WHERE active AND $1::text = ANY (events)
    FOR KEY SHARE
  )
  INSERT INTO webhook_deliveries
    (id, webhook_id, event_type, alert_id, sequence, body, state, attempts, next_attempt_at, created_at)
  SELECT delivery_id, webhook_id, $1::text, $2::uuid, $3::bigint,
    '{"deliveryId":"' || delivery_id || '","webhookId":"' || webhook_id || '",' || substr($4::text, 2),
    'pending', 0, $5::timestamptz, $5::timestamptz
  FROM targets
  ON CONFLICT ON CONSTRAINT webhook_deliveries_change_key DO NOTHING`;

/**
 * Leases up to $3 due deliveries of active webhooks by moving their next attempt to $2 (now + lease): another
 * dispatcher skips them, and if this one dies mid-send they are due again when the lease runs out. Times come from
 * the dispatcher's clock; instances sharing a database need synchronised clocks (NTP) for leases to hold.
 * TODO: the due deliveries of paused (inactive) webhooks are read past on every poll; if many pile up, move them
 * out of the due index while paused.
 */
const CLAIM_DUE = `
  UPDATE webhook_deliveries d SET next_attempt_at = $2
  FROM webhooks w
  WHERE w.id = d.webhook_id
    AND d.id IN (
      SELECT due.id
      FROM webhook_deliveries due
      JOIN webhooks hook ON hook.id = due.webhook_id
      WHERE due.state = 'pending' AND due.next_attempt_at <= $1 AND hook.active
      ORDER BY due.next_attempt_at, due.sequence
      LIMIT $3
      FOR UPDATE OF due SKIP LOCKED
    )
  RETURNING d.id, d.webhook_id, d.event_type, d.body, d.attempts, w.url, w.secret`;

/** Skipped when the delivery is no longer the one claimed (redelivered, or recorded by another dispatcher). */
const RECORD_ATTEMPT = `
  UPDATE webhook_deliveries SET
    attempts = attempts + 1, last_attempt_at = $3, last_status = $4, last_error = $5,
    state = $6, next_attempt_at = $7, delivered_at = $8
  WHERE id = $1 AND state = 'pending' AND attempts = $2`;

const DELIVERY_COLUMNS = `id, webhook_id, event_type, alert_id, sequence, state, attempts, next_attempt_at,
  last_attempt_at, last_status, last_error, created_at, delivered_at`;

const SELECT_DELIVERIES = `
  SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
  WHERE webhook_id = $1 AND sequence > $2 AND ($3::text IS NULL OR state = $3)
  ORDER BY sequence
  LIMIT $4`;

const SELECT_DELIVERY = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2`;

const REQUEUE_FAILED = `
  UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3
  WHERE webhook_id = $1 AND id = $2 AND state = 'failed'
  RETURNING ${DELIVERY_COLUMNS}`;

/** The change a delivery is enqueued for; `body` is the JSON of everything but deliveryId and webhookId. */
export interface EnqueuedChange {
  type: AlertChangeType;
  alertId: string;
  sequence: number;
  body: string;
  at: string;
}

type Row = Record<string, unknown>;

/** All SQL about webhooks and their deliveries (the outbox). */
export class WebhookRepository {
  constructor(private readonly db: Database) {}

  async insert(webhook: WebhookRecord): Promise<WebhookRecord> {
    const { rows } = await this.db.query<Row>(INSERT_WEBHOOK, [
      webhook.id,
      webhook.name,
      webhook.url,
      webhook.secret,
      webhook.events,
      webhook.active,
      webhook.createdAt,
      webhook.createdBy,
    ]);

    return toWebhook(rows[0]!);
  }

  async list(): Promise<WebhookRecord[]> {
    return (await this.db.query<Row>(SELECT_WEBHOOKS)).rows.map(toWebhook);
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const row = (await this.db.query<Row>(SELECT_WEBHOOK, [id])).rows[0];

    return row === undefined ? null : toWebhook(row);
  }

  async update(id: string, patch: WebhookPatch, at: string): Promise<WebhookRecord | null> {
    const params = [id, patch.name ?? null, patch.url ?? null, patch.events ?? null, patch.active ?? null, at];
    const row = (await this.db.query<Row>(UPDATE_WEBHOOK, params)).rows[0];

    return row === undefined ? null : toWebhook(row);
  }

  /** True when a webhook was deleted. */
  async delete(id: string): Promise<boolean> {
    return (await this.db.query(DELETE_WEBHOOK, [id])).rowCount > 0;
  }

  /** Writes the deliveries of one alert change on the change's own transaction; returns how many. */
  async enqueue(tx: Queryable, change: EnqueuedChange): Promise<number> {
    const params = [change.type, change.alertId, change.sequence, change.body, change.at];

    return (await tx.query(ENQUEUE, params)).rowCount;
  }

  async claimDue(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.db.query<Row>(CLAIM_DUE, [now, leaseUntil, limit]);

    return rows.map((r) => ({
      id: String(r.id),
      webhookId: String(r.webhook_id),
      event: String(r.event_type) as AlertChangeType,
      body: String(r.body),
      attempts: Number(r.attempts),
      url: String(r.url),
      secret: String(r.secret),
    }));
  }

  /** Records one attempt; false when the delivery had moved on since it was claimed (nothing written). */
  async recordAttempt(result: AttemptResult): Promise<boolean> {
    const { rowCount } = await this.db.query(RECORD_ATTEMPT, [
      result.deliveryId,
      result.attemptsBefore,
      result.at,
      result.status,
      result.error,
      result.state,
      result.nextAttemptAt,
      result.state === 'delivered' ? result.at : null,
    ]);

    return rowCount > 0;
  }

  async deliveries(
    webhookId: string,
    after: number,
    state: DeliveryState | null,
    limit: number,
  ): Promise<WebhookDelivery[]> {
    const { rows } = await this.db.query<Row>(SELECT_DELIVERIES, [webhookId, after, state, limit]);

    return rows.map(toDelivery);
  }

  async delivery(webhookId: string, id: string): Promise<WebhookDelivery | null> {
    const row = (await this.db.query<Row>(SELECT_DELIVERY, [webhookId, id])).rows[0];

    return row === undefined ? null : toDelivery(row);
  }

  /** Puts a failed delivery back in the queue, due at `at`, with a fresh attempt budget; null if it is not failed. */
  async requeueFailed(webhookId: string, id: string, at: string): Promise<WebhookDelivery | null> {
    const row = (await this.db.query<Row>(REQUEUE_FAILED, [webhookId, id, at])).rows[0];

    return row === undefined ? null : toDelivery(row);
  }
}

function toWebhook(r: Row): WebhookRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    url: String(r.url),
    secret: String(r.secret),
    events: r.events as AlertChangeType[],
    active: Boolean(r.active),
    createdAt: isoOf(r.created_at),
    createdBy: String(r.created_by),
    updatedAt: isoOf(r.updated_at),
  };
}

function toDelivery(r: Row): WebhookDelivery {
  return {
    id: String(r.id),
    webhookId: String(r.webhook_id),
    event: String(r.event_type) as AlertChangeType,
    alertId: String(r.alert_id),
    sequence: Number(r.sequence),
    state: String(r.state) as DeliveryState,
    attempts: Number(r.attempts),
    nextAttemptAt: isoOrNull(r.next_attempt_at),
    lastAttemptAt: isoOrNull(r.last_attempt_at),
    lastStatus: r.last_status === null || r.last_status === undefined ? null : Number(r.last_status),
    lastError: (r.last_error ?? null) as string | null,
    createdAt: isoOf(r.created_at),
    deliveredAt: isoOrNull(r.delivered_at),
  };
}

/** `timestamptz` arrives as a Date from both drivers. */
