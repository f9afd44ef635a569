import type { Database } from '../database/database.js';
import type { Scope } from './scope.decorator.js';
import type { ApiKey } from './api-key.types.js';
import { isoOf, isoOrNull } from '../database/timestamps.js';

const COLUMNS = `id, name, key_prefix, scopes, rate_limit_per_minute, created_at, created_by, expires_at, revoked_at,
  last_used_at`;

const INSERT = `
  INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, rate_limit_per_minute, created_at, created_by,
    expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

const SELECT_USABLE_BY_HASH = `
  SELECT ${COLUMNS} FROM api_keys
  WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`;

const SELECT_BY_HASH = `SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`;

const SELECT_ACTIVE_BY_NAME = `SELECT ${COLUMNS} FROM api_keys WHERE lower(name) = lower($1) AND revoked_at IS NULL`;

const SELECT_ALL = `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`;

const SELECT_ONE = `SELECT ${COLUMNS} FROM api_keys WHERE id = $1`;

const COUNT_OTHER_ADMINS = `
  SELECT count(*)::int AS n FROM api_keys
  WHERE id <> $1 AND 'admin' = ANY(scopes) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`;

const COUNT_ADMINS = `
  SELECT count(*)::int AS n FROM api_keys
  WHERE 'admin' = ANY(scopes) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`;

const REVOKE = `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`;

const REVOKE_BY_NAME_EXCEPT = `
  UPDATE api_keys SET revoked_at = $3
  WHERE name = $1 AND key_hash <> $2 AND revoked_at IS NULL`;

const UNREVOKE = `UPDATE api_keys SET revoked_at = NULL, expires_at = NULL, scopes = $2 WHERE key_hash = $1`;

const TOUCH = `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`;

type Row = Record<string, unknown>;

const UNIQUE_VIOLATION = '23505';
const ACTIVE_NAME_INDEX = 'api_keys_active_name_idx';

/** The SQL of API keys. */
export class ApiKeyRepository {
  constructor(private readonly db: Database) {}

  /** Stores a key; false when another key not revoked took its name first (the unique index decides races). */
  async insert(key: ApiKey, hash: string): Promise<boolean> {
    try {
      await this.insertRow(key, hash);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION && String(error).includes(ACTIVE_NAME_INDEX)) {
        return false;
      }
      throw error;
    }
  }

  private async insertRow(key: ApiKey, hash: string): Promise<void> {
    await this.db.query(INSERT, [
      key.id,
      key.name,
      hash,
      key.prefix,
      key.scopes,
      key.rateLimitPerMinute,
      key.createdAt,
      key.createdBy,
      key.expiresAt,
    ]);
  }

  /** The key with this hash if it is neither revoked nor expired at `now`. */
  async findUsable(hash: string, now: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query<Row>(SELECT_USABLE_BY_HASH, [hash, now]);

    return rows.length ? fromRow(rows[0]!) : null;
  }

  async findByHash(hash: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query<Row>(SELECT_BY_HASH, [hash]);

    return rows.length ? fromRow(rows[0]!) : null;
  }

  /** The key not revoked that has this name, ignoring case (names are unique among them). */
  async findActiveByName(name: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query<Row>(SELECT_ACTIVE_BY_NAME, [name]);

    return rows.length ? fromRow(rows[0]!) : null;
  }

  async all(): Promise<ApiKey[]> {
    return (await this.db.query<Row>(SELECT_ALL)).rows.map(fromRow);
  }

  async get(id: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query<Row>(SELECT_ONE, [id]);

    return rows.length ? fromRow(rows[0]!) : null;
  }

  async countUsableAdmins(now: string, exceptId?: string): Promise<number> {
    const { rows } =
      exceptId === undefined
        ? await this.db.query<{ n: number }>(COUNT_ADMINS, [now])
        : await this.db.query<{ n: number }>(COUNT_OTHER_ADMINS, [exceptId, now]);

    return Number(rows[0]!.n);
  }

  async revoke(id: string, at: string): Promise<void> {
    await this.db.query(REVOKE, [id, at]);
  }

  /** Revokes every active key of `name` but the one with `keepHash` (an older bootstrap key). */
  async revokeOthersNamed(name: string, keepHash: string, at: string): Promise<void> {
    await this.db.query(REVOKE_BY_NAME_EXCEPT, [name, keepHash, at]);
  }

  /** Makes the key with this hash usable again with these scopes (the bootstrap key, revoked or expired earlier). */
  async restore(hash: string, scopes: Scope[]): Promise<void> {
    await this.db.query(UNREVOKE, [hash, scopes]);
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.query(TOUCH, [id, at]);
  }
}

function fromRow(row: Row): ApiKey {
  return {
    id: String(row.id),
    name: String(row.name),
    prefix: String(row.key_prefix),
    scopes: parseScopes(row.scopes),
    rateLimitPerMinute: row.rate_limit_per_minute === null ? null : Number(row.rate_limit_per_minute),
    createdAt: isoOf(row.created_at),
    createdBy: String(row.created_by),
    expiresAt: isoOrNull(row.expires_at),
    revokedAt: isoOrNull(row.revoked_at),
    lastUsedAt: isoOrNull(row.last_used_at),
  };
}

/** pg returns text[] as an array; PGlite may too, or as the '{a,b}' literal. */
function parseScopes(value: unknown): Scope[] {
  if (Array.isArray(value)) return value as Scope[];

  return String(value)
    .replace(/^\{|\}$/g, '')
    .split(',')
    .filter(Boolean) as Scope[];
}
