import type { Database, Queryable } from '../database/database.js';
import type { AlertStatus } from './alert.model.js';

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
}

export type AlertState = Pick<AlertRow, 'deviceId' | 'id' | 'status' | 'contentHash' | 'revision'> & {
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

const COLUMNS = `device_id, id, rule_id, device_name, process_id, file_name, status, severity, timestamp_text,
  content, content_hash, revision, created_at, updated_at`;

const SELECT_STATES = `
  SELECT device_id, id, status, content_hash, revision, content->'paths' AS paths
  FROM alerts
  WHERE rule_id = $1 AND device_id = ANY($2::text[])`;

const UPSERT = `
  INSERT INTO alerts (${COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (device_id, id) DO UPDATE SET
    device_name = EXCLUDED.device_name, process_id = EXCLUDED.process_id, file_name = EXCLUDED.file_name,
    status = EXCLUDED.status, timestamp_text = EXCLUDED.timestamp_text, content = EXCLUDED.content,
    content_hash = EXCLUDED.content_hash, revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at`;

const SET_STATUS = `
  UPDATE alerts SET status = $3, revision = revision + 1, updated_at = $4
  WHERE device_id = $1 AND id = $2
  RETURNING revision`;

/** Any constant: the key of the advisory lock every writer of alert changes takes (see 0006_alert_changes.sql). */
const CHANGE_LOCK = `SELECT pg_advisory_xact_lock(724910061)`;

const RECORD_CHANGE = `
  INSERT INTO alert_changes (seq, alert_id, device_id, revision, changed_at)
  VALUES (nextval('alert_change_seq'), $1, $2, $3, $4)`;

/** $1 after, $2 limit: each alert changed after `after`, once, at its latest change, in change order. */
const SELECT_CHANGES = `
  SELECT c.seq, ${COLUMNS.split(',')
    .map((c) => `a.${c.trim()}`)
    .join(', ')}
  FROM (SELECT alert_id, max(seq) AS seq FROM alert_changes WHERE seq > $1 GROUP BY alert_id) c
  JOIN alerts a ON a.id = c.alert_id
  ORDER BY c.seq
  LIMIT $2`;

const SELECT_DEVICES = `SELECT DISTINCT device_id FROM alerts WHERE rule_id = $1 ORDER BY device_id`;

const SELECT_BY_ID = `SELECT ${COLUMNS} FROM alerts WHERE id = $1`;

const SEARCH = `
  SELECT ${COLUMNS} FROM alerts
  WHERE ($1::text IS NULL OR device_id = $1)
    AND ($2::text IS NULL OR status = $2)
    AND ($3::text IS NULL OR timestamp_text >= $3)
    AND ($4::text IS NULL OR timestamp_text <= $4)
    AND ($5::text IS NULL OR (timestamp_text, id) > ($5, $6::uuid))
  ORDER BY timestamp_text, id
  LIMIT $7`;

/** Appends one change under the writers' lock (taken once per transaction; taking it again is free). */
async function recordChange(tx: Queryable, id: string, deviceId: string, revision: number, at: string): Promise<void> {
  await tx.query(CHANGE_LOCK);
  await tx.query(RECORD_CHANGE, [id, deviceId, revision, at]);
}

/** All SQL about alerts. */
export class AlertRepository {
  constructor(private readonly db: Database) {}

  async getStates(tx: Queryable, ruleId: string, deviceIds: string[]): Promise<AlertState[]> {
    const { rows } = await tx.query<Record<string, unknown>>(SELECT_STATES, [ruleId, deviceIds]);

    return rows.map((r) => ({
      deviceId: String(r.device_id),
      id: String(r.id),
      status: r.status as AlertStatus,
      contentHash: String(r.content_hash),
      revision: Number(r.revision),
      connectionKeys: connectionKeysOf(typeof r.paths === 'string' ? JSON.parse(r.paths) : r.paths),
    }));
  }

  async upsert(tx: Queryable, row: AlertRow): Promise<void> {
    await this.writeUpsert(tx, row);
    await recordChange(tx, row.id, row.deviceId, row.revision, row.updatedAt);
  }

  private async writeUpsert(tx: Queryable, row: AlertRow): Promise<void> {
    await tx.query(UPSERT, [
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
  }

  async setStatus(tx: Queryable, deviceId: string, id: string, status: AlertStatus, at: string): Promise<void> {
    const { rows } = await tx.query<{ revision: number }>(SET_STATUS, [deviceId, id, status, at]);
    if (rows.length > 0) await recordChange(tx, id, deviceId, Number(rows[0]!.revision), at);
  }

  /** Alerts changed after `after` (a change number), each once at its latest change, oldest change first. */
  async changesAfter(after: number, limit: number): Promise<{ sequence: number; row: AlertRow }[]> {
    const { rows } = await this.db.query<Record<string, unknown>>(SELECT_CHANGES, [after, limit]);

    return rows.map((r) => ({ sequence: Number(r.seq), row: toAlertRow(r) }));
  }

  async devicesWithAlerts(ruleId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ device_id: string }>(SELECT_DEVICES, [ruleId]);

    return rows.map((r) => r.device_id);
  }

  async getById(id: string): Promise<AlertRow | null> {
    const { rows } = await this.db.query<Record<string, unknown>>(SELECT_BY_ID, [id]);

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
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

function toIso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
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
