import type { Database, Queryable } from '../database/database.js';
import type { AlertChangeType, ChangeRecord, FieldChange } from './alert-change.js';
import type { AlertClassification, AlertStatus, TriageStatus } from './alert.model.js';
import { isoOf } from '../database/timestamps.js';

/** The stored row of an alert; `content` holds the served document minus the columns. */
export interface AlertRow {
  deviceId: string;
  id: string;
  ruleId: string;
  deviceName: string;
  processId: number;
  fileName: string;
  status: AlertStatus;
  severity: string;
  timestampText: string;
  content: Record<string, unknown>;
  contentHash: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** Set by analysts only; the engine's upsert leaves them as they are. */
  triageStatus: TriageStatus;
  classification: AlertClassification | null;
  assignedTo: string | null;
}

/** The columns the engine writes; triage columns keep their defaults on insert and their values on update. */
export type DerivedAlertRow = Omit<AlertRow, 'triageStatus' | 'classification' | 'assignedTo'>;

/** A stored change as the history endpoint serves it (`type` is null for changes older than the audit trail). */
export interface StoredChange extends Omit<ChangeRecord, 'type' | 'deviceId'> {
  sequence: number;
  type: AlertChangeType | null;
}

/** An analyst's change of the triage fields, applied only if the alert is still at `expectedRevision`. */
export interface TriageUpdate {
  status: AlertStatus;
  triageStatus: TriageStatus;
  classification: AlertClassification | null;
  assignedTo: string | null;
  expectedRevision: number;
  at: string;
}

export type AlertState = Pick<AlertRow, 'deviceId' | 'id' | 'status' | 'triageStatus' | 'contentHash' | 'revision'> & {
  /** The stored connection events the alert's paths cite (table, device, key): the detection it stands for. */
  connectionKeys: Set<string>;
};

export interface AlertSearch {
  deviceId?: string;
  status?: AlertStatus;
  fromText?: string;
  toText?: string;
  after?: { timestampText: string; id: string };
  limit: number;
}

const DERIVED_COLUMNS = `device_id, id, rule_id, device_name, process_id, file_name, status, severity, timestamp_text,
  content, content_hash, revision, created_at, updated_at`;

const COLUMNS = `${DERIVED_COLUMNS}, triage_status, classification, assigned_to`;

const SELECT_STATES = `
  SELECT device_id, id, status, triage_status, content_hash, revision, content->'paths' AS paths
  FROM alerts
  WHERE rule_id = $1 AND device_id = ANY($2::text[])`;

/**
 * The served status of a re-derived alert, from the triage status stored now (not the one read when detection
 * started: an analyst may have changed it since): `suppressed` if a suppression holds it and it is still open,
 * else its triage status. The engine passes `suppressed` or `new` as the proposed status. See servedStatus.
 */
const SERVED_STATUS_ON_CONFLICT = `CASE
    WHEN EXCLUDED.status = 'suppressed' AND alerts.triage_status IN ('new', 'in_progress') THEN 'suppressed'
    ELSE alerts.triage_status END`;

const UPSERT = `
  INSERT INTO alerts (${DERIVED_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (device_id, id) DO UPDATE SET
    device_name = EXCLUDED.device_name, process_id = EXCLUDED.process_id, file_name = EXCLUDED.file_name,
    status = ${SERVED_STATUS_ON_CONFLICT}, timestamp_text = EXCLUDED.timestamp_text, content = EXCLUDED.content,
    content_hash = EXCLUDED.content_hash, revision = alerts.revision + 1, updated_at = EXCLUDED.updated_at
  RETURNING ${COLUMNS}`;

const SET_STATUS = `
  UPDATE alerts SET status = $3, revision = revision + 1, updated_at = $4
  WHERE device_id = $1 AND id = $2
  RETURNING ${COLUMNS}`;

const APPLY_TRIAGE = `
  UPDATE alerts SET status = $2, triage_status = $3, classification = $4, assigned_to = $5,
    revision = revision + 1, updated_at = $6
  WHERE id = $1 AND revision = $7
  RETURNING ${COLUMNS}`;

const SELECT_HISTORY = `
  SELECT seq, revision, changed_at, actor, actor_key_id, change_type, changes, comment
  FROM alert_changes
  WHERE alert_id = $1 AND seq > $2
  ORDER BY seq
  LIMIT $3`;

/**
 * The advisory lock every writer of alert changes takes (see 0006_alert_changes.sql): a constant, paired with the
 * schema so services on different schemas of one database do not queue behind each other.
 */
const CHANGE_LOCK = `SELECT pg_advisory_xact_lock(hashtext(current_schema()), 724910061)`;

const RECORD_CHANGE = `
  INSERT INTO alert_changes
    (seq, alert_id, device_id, revision, changed_at, actor, actor_key_id, change_type, changes, comment)
  VALUES (nextval('alert_change_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9)
  RETURNING seq`;

/** $1 after, $2 limit: each alert changed after `after`, once, at its latest change, in change order. */
const SELECT_CHANGES = `
  SELECT c.seq, ${COLUMNS.split(',')
    .map((c) => `a.${c.trim()}`)
    .join(', ')}
  FROM (SELECT alert_id, max(seq) AS seq FROM alert_changes WHERE seq > $1 GROUP BY alert_id) c
  JOIN alerts a ON a.id = c.alert_id
  ORDER BY c.seq
  LIMIT $2`;

const SELECT_NEWEST_CHANGE = `SELECT coalesce(max(seq), 0) AS seq FROM alert_changes`;

const SELECT_DEVICES = `SELECT DISTINCT device_id FROM alerts WHERE rule_id = $1 ORDER BY device_id`;

const SELECT_BY_ID = `SELECT ${COLUMNS} FROM alerts WHERE id = $1`;

const LOCK_BY_ID = `SELECT ${COLUMNS} FROM alerts WHERE id = $1 FOR UPDATE`;

const SEARCH = `
  SELECT ${COLUMNS} FROM alerts
  WHERE ($1::text IS NULL OR device_id = $1)
    AND ($2::text IS NULL OR status = $2)
    AND ($3::text IS NULL OR timestamp_text >= $3)
    AND ($4::text IS NULL OR timestamp_text <= $4)
    AND ($5::text IS NULL OR (timestamp_text, id) > ($5, $6::uuid))
  ORDER BY timestamp_text, id
  LIMIT $7`;

/** All SQL about alerts. */
export class AlertRepository {
  constructor(private readonly db: Database) {}

  /**
   * Takes the change writers' lock. Every transaction that changes alerts takes it before locking any alert row
   * (detection rewrites many rows, triage one), so writers queue instead of deadlocking.
   */
  async lockChanges(tx: Queryable): Promise<void> {
    await tx.query(CHANGE_LOCK);
  }

  async getStates(tx: Queryable, ruleId: string, deviceIds: string[]): Promise<AlertState[]> {
    const { rows } = await tx.query<Record<string, unknown>>(SELECT_STATES, [ruleId, deviceIds]);

    return rows.map((r) => ({
      deviceId: String(r.device_id),
      id: String(r.id),
      status: r.status as AlertStatus,
      triageStatus: r.triage_status as TriageStatus,
      contentHash: String(r.content_hash),
      revision: Number(r.revision),
      connectionKeys: connectionKeysOf(typeof r.paths === 'string' ? JSON.parse(r.paths) : r.paths),
    }));
  }

  /** Writes a derived alert; returns the stored row (with the triage fields it already had). */
  async upsert(tx: Queryable, row: DerivedAlertRow): Promise<AlertRow> {
    const { rows } = await tx.query<Record<string, unknown>>(UPSERT, [
      row.deviceId,
      row.id,
      row.ruleId,
      row.deviceName,
      row.processId,
      row.fileName,
      row.status,
      row.severity,
      row.timestampText,
      JSON.stringify(row.content),
      row.contentHash,
      row.revision,
      row.createdAt,
      row.updatedAt,
    ]);

    return toAlertRow(rows[0]!);
  }

  async setStatus(
    tx: Queryable,
    deviceId: string,
    id: string,
    status: AlertStatus,
    at: string,
  ): Promise<AlertRow | null> {
    const { rows } = await tx.query<Record<string, unknown>>(SET_STATUS, [deviceId, id, status, at]);

    return rows.length > 0 ? toAlertRow(rows[0]!) : null;
  }

  /** Applies an analyst's change if the alert is still at the expected revision; null when it is not. */
  async applyTriage(tx: Queryable, id: string, update: TriageUpdate): Promise<AlertRow | null> {
    const { rows } = await tx.query<Record<string, unknown>>(APPLY_TRIAGE, [
      id,
      update.status,
      update.triageStatus,
      update.classification,
      update.assignedTo,
      update.at,
      update.expectedRevision,
    ]);

    return rows.length > 0 ? toAlertRow(rows[0]!) : null;
  }

  /**
   * Appends one change to the feed and audit trail under the writers' lock (taken once per transaction; taking
   * it again is free), so sequence numbers become visible in the order they were drawn. Returns the number.
   */
  async recordChange(tx: Queryable, change: ChangeRecord): Promise<number> {
    await tx.query(CHANGE_LOCK);
    const { rows } = await tx.query<{ seq: string | number }>(RECORD_CHANGE, [
      change.alertId,
      change.deviceId,
      change.revision,
      change.changedAt,
      change.actor,
      change.actorKeyId,
      change.type,
      JSON.stringify(change.changes),
      change.comment,
    ]);

    return Number(rows[0]!.seq);
  }

  /** One alert's changes after sequence `after`, oldest first. */
  async history(alertId: string, after: number, limit: number): Promise<StoredChange[]> {
    const { rows } = await this.db.query<Record<string, unknown>>(SELECT_HISTORY, [alertId, after, limit]);

    return rows.map((r) => ({
      sequence: Number(r.seq),
      alertId,
      revision: Number(r.revision),
      changedAt: isoOf(r.changed_at),
      actor: String(r.actor),
      actorKeyId: (r.actor_key_id ?? null) as string | null,
      type: (r.change_type ?? null) as AlertChangeType | null,
      changes: fromThenTo((typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes) as ChangedFields),
      comment: (r.comment ?? null) as string | null,
    }));
  }

  /** Alerts changed after `after` (a change number), each once at its latest change, oldest change first. */
  async changesAfter(after: number, limit: number): Promise<{ sequence: number; row: AlertRow }[]> {
    const { rows } = await this.db.query<Record<string, unknown>>(SELECT_CHANGES, [after, limit]);

    return rows.map((r) => ({ sequence: Number(r.seq), row: toAlertRow(r) }));
  }

  /** The sequence number of the newest change (0 before any). */
  async newestChange(): Promise<number> {
    const { rows } = await this.db.query<{ seq: string | number }>(SELECT_NEWEST_CHANGE);

    return Number(rows[0]!.seq);
  }

  async devicesWithAlerts(ruleId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ device_id: string }>(SELECT_DEVICES, [ruleId]);

    return rows.map((r) => r.device_id);
  }

  async getById(id: string): Promise<AlertRow | null> {
    const { rows } = await this.db.query<Record<string, unknown>>(SELECT_BY_ID, [id]);

    return rows.length ? toAlertRow(rows[0]) : null;
  }

  /** The alert, locked until the transaction ends (an analyst's change reads, checks and writes under it). */
  async lockById(tx: Queryable, id: string): Promise<AlertRow | null> {
    const { rows } = await tx.query<Record<string, unknown>>(LOCK_BY_ID, [id]);

    return rows.length ? toAlertRow(rows[0]) : null;
  }

  async search(filter: AlertSearch): Promise<AlertRow[]> {
    const { rows } = await this.db.query<Record<string, unknown>>(SEARCH, [
      filter.deviceId ?? null,
      filter.status ?? null,
      filter.fromText ?? null,
      filter.toText ?? null,
      filter.after?.timestampText ?? null,
      filter.after?.id ?? null,
      filter.limit,
    ]);

    return rows.map(toAlertRow);
  }
}

type ChangedFields = Record<string, FieldChange>;

/** jsonb stores keys by length, so `to` comes back before `from`: put them back in reading order. */
function fromThenTo(changes: ChangedFields): ChangedFields {
  return Object.fromEntries(Object.entries(changes).map(([field, c]) => [field, { from: c.from, to: c.to }]));
}

function toAlertRow(r: Record<string, unknown>): AlertRow {
  return {
    deviceId: String(r.device_id),
    id: String(r.id),
    ruleId: String(r.rule_id),
    deviceName: String(r.device_name),
    processId: Number(r.process_id),
    fileName: String(r.file_name),
    status: r.status as AlertStatus,
    severity: String(r.severity),
    timestampText: String(r.timestamp_text),
    content: (typeof r.content === 'string' ? JSON.parse(r.content) : r.content) as Record<string, unknown>,
    contentHash: String(r.content_hash),
    revision: Number(r.revision),
    createdAt: isoOf(r.created_at),
    updatedAt: isoOf(r.updated_at),
    triageStatus: (r.triage_status ?? 'new') as TriageStatus,
    classification: (r.classification ?? null) as AlertClassification | null,
    assignedTo: (r.assigned_to ?? null) as string | null,
  };
}

type StoredPath = { edges?: { kind?: string; evidence?: { table: string; deviceId: string; eventKey: string }[] }[] };

/** The keys of the connection events cited by the `connected` edges of stored paths (none for old alerts). */
export function connectionKeysOf(paths: unknown): Set<string> {
  const keys = new Set<string>();
  if (!Array.isArray(paths)) return keys;

  for (const path of paths as StoredPath[]) {
    for (const edge of path.edges ?? []) {
      if (edge.kind !== 'connected') continue;
      for (const e of edge.evidence ?? []) keys.add(`${e.table}\u0000${e.deviceId}\u0000${e.eventKey}`);
    }
  }
  return keys;
}
