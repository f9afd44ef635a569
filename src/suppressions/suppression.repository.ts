import type { Database } from '../database/database.js';
import { isoOrNull } from '../database/timestamps.js';
import type { Suppression, SuppressionEntityType } from './suppression.types.js';

const COLUMNS = `id, entity_type, entity_value, reason, created_at, expires_at, lifted_at`;

const INSERT = `INSERT INTO suppressions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL)`;

const SELECT_ACTIVE = `
  SELECT ${COLUMNS} FROM suppressions
  WHERE lifted_at IS NULL AND expires_at > $1
  ORDER BY created_at, id`;

const SELECT_ALL = `SELECT ${COLUMNS} FROM suppressions ORDER BY created_at, id`;

const SELECT_ONE = `SELECT ${COLUMNS} FROM suppressions WHERE id = $1`;

const LIFT = `UPDATE suppressions SET lifted_at = $2 WHERE id = $1 AND lifted_at IS NULL`;

type Row = Record<string, unknown>;

/** The SQL of suppressions. Times are passed in, never taken from the database clock. */
export class SuppressionRepository {
  constructor(private readonly db: Database) {}

  async insert(s: Suppression): Promise<void> {
    await this.db.query(INSERT, [s.id, s.entityType, s.entityValue, s.reason, s.createdAt, s.expiresAt]);
  }

  async active(now: string): Promise<Suppression[]> {
    return (await this.db.query<Row>(SELECT_ACTIVE, [now])).rows.map(fromRow);
  }

  async all(): Promise<Suppression[]> {
    return (await this.db.query<Row>(SELECT_ALL)).rows.map(fromRow);
  }

  async get(id: string): Promise<Suppression | null> {
    const row = (await this.db.query<Row>(SELECT_ONE, [id])).rows[0];

    return row === undefined ? null : fromRow(row);
  }

  async lift(id: string, at: string): Promise<void> {
    await this.db.query(LIFT, [id, at]);
  }
}

function fromRow(row: Row): Suppression {
  return {
    id: String(row.id),
    entityType: String(row.entity_type) as SuppressionEntityType,
    entityValue: String(row.entity_value),
    reason: String(row.reason),
    createdAt: isoOrNull(row.created_at)!,
    expiresAt: isoOrNull(row.expires_at)!,
    liftedAt: isoOrNull(row.lifted_at),
  };
}
