import { afterAll, describe, expect, it } from 'vitest';

import type { CanonicalEvent } from '../../src/ingest/event.types.js';
import { EventRepository } from '../../src/ingest/event.repository.js';
import { mapEventsRecord } from '../../src/ingest/mappers/mde.mapper.js';
import { connectionRow, injectionRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

function mapped(rows: Record<string, unknown>[]): CanonicalEvent[] {
  return rows.map((value, position) => {
    const result = mapEventsRecord({ position, value });
    if (result.kind !== 'event') throw new Error(`row ${position} did not map: ${JSON.stringify(result)}`);
    return result.event;
  });
}

describe('events stored but never correlated (the process stopped in between)', () => {
  let t: TestApp | undefined;

  afterAll(async () => t?.close());

  it('are detected when the service starts, and the pending mark is cleared', async () => {
    const database = await createTestDatabase();
    const events = mapped([injectionRow({ DeviceId: 'crashed' }), connectionRow({ DeviceId: 'crashed' })]);
    await new EventRepository(database.db).insertEvents(events, new Date().toISOString());
    const before = await database.db.query(`SELECT device_id FROM pending_detection`);

    t = await createTestApp({}, database);
    const alerts = await t.http().get('/api/v1/alerts').query({ deviceId: 'crashed' });
    const after = await database.db.query(`SELECT device_id FROM pending_detection`);

    expect(before.rows).toEqual([{ device_id: 'crashed' }]);
    expect(alerts.body.items).toHaveLength(1);
    expect(after.rows).toEqual([]);
  });

  it('are cleared by a normal ingest, which detects before it replies', async () => {
    await t!
      .http()
      .post('/api/v1/events')
      .set('content-type', 'application/json')
      .send(JSON.stringify([injectionRow({ DeviceId: 'normal' }), connectionRow({ DeviceId: 'normal' })]));

    const pending = await t!.db.query(`SELECT device_id FROM pending_detection`);

    expect(pending.rows).toEqual([]);
  });
});
