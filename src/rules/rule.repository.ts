import type { Database } from '../database/database.js';

const SELECT = `SELECT settings FROM rule_settings WHERE rule_id = $1`;

const UPSERT = `
  INSERT INTO rule_settings (rule_id, settings, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (rule_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at`;

export class RuleRepository {
  constructor(private readonly db: Database) {}

  async getSettings(ruleId: string): Promise<unknown | null> {
    const { rows } = await this.db.query<{ settings: unknown }>(SELECT, [ruleId]);
    if (rows.length === 0) return null;

    const settings = rows[0].settings;
    return typeof settings === 'string' ? JSON.parse(settings) : settings;
  }

  async saveSettings(ruleId: string, settings: unknown, at: string): Promise<void> {
    await this.db.query(UPSERT, [ruleId, JSON.stringify(settings), at]);
  }
}
