import { randomUUID } from 'node:crypto';

import type { Database, Queryable } from '../database/database.js';

export interface PendingMark {
  deviceId: string;
  token: string;
}

const MARK = `
  INSERT INTO pending_detection (device_id, token, queued_at)
  SELECT device_id, $2::uuid, $3 FROM unnest($1::text[]) AS device_id
  ON CONFLICT (device_id) DO UPDATE SET token = EXCLUDED.token, queued_at = EXCLUDED.queued_at`;

const SELECT_MARKS = `SELECT device_id, token FROM pending_detection WHERE device_id = ANY($1::text[])`;

const SELECT_ALL = `SELECT device_id FROM pending_detection ORDER BY device_id`;

const CLEAR = `
  DELETE FROM pending_detection p
  USING unnest($1::text[], $2::uuid[]) AS seen(device_id, token)
  WHERE p.device_id = seen.device_id AND p.token = seen.token`;

/**
 * The durable list of devices that still need detection. Marked inside the ingest transaction (see
 * EventRepository.insertEvents), read before a detection run loads events, cleared after it reconciles.
 */
export class PendingDetectionRepository {
  constructor(private readonly db: Database) {}

  /** Called inside the transaction that stores the devices' events. */
  static async mark(tx: Queryable, deviceIds: string[], at: string): Promise<void> {
    if (deviceIds.length === 0) return;

    await tx.query(MARK, [deviceIds, randomUUID(), at]);
  }

  async marksFor(deviceIds: string[]): Promise<PendingMark[]> {
    const { rows } = await this.db.query<{ device_id: string; token: string }>(SELECT_MARKS, [deviceIds]);

    return rows.map((r) => ({ deviceId: r.device_id, token: String(r.token) }));
  }

  async pendingDevices(): Promise<string[]> {
    const { rows } = await this.db.query<{ device_id: string }>(SELECT_ALL);

    return rows.map((r) => r.device_id);
  }

  /** Removes the marks a run has seen; a device marked again meanwhile keeps its newer mark. */
  async clear(marks: PendingMark[]): Promise<void> {
    if (marks.length === 0) return;

    await this.db.query(CLEAR, [marks.map((m) => m.deviceId), marks.map((m) => m.token)]);
  }
}
