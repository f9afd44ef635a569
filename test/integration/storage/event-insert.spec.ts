import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRepository, type InsertStrategy } from '../../../src/ingest/event.repository.js';
import type { CanonicalEvent } from '../../../src/ingest/event.types.js';
import { EventTable } from '../../../src/vocabulary/graph.vocabulary.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';
import { connectionFrom, deviceEvent, injectionInto, networkEvent } from '../../support/event.factory.js';

const RECEIVED_AT = '2024-03-02T00:00:00.000Z';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb?.cleanup();
});

async function storedCount(deviceId: string): Promise<number> {
  const sql = `SELECT (SELECT count(*) FROM device_events WHERE device_id = $1)
    + (SELECT count(*) FROM device_network_events WHERE device_id = $1) AS n`;
  const result = await testDb.db.query<{ n: string | number }>(sql, [deviceId]);

  return Number(result.rows[0].n);
}

function mixedBatch(deviceId: string, size: number): CanonicalEvent[] {
  return Array.from({ length: size }, (_, i) =>
    i % 2 === 0 ? injectionInto(deviceId, 100 + i, 'notepad.exe') : connectionFrom(deviceId, 100 + i, 'notepad.exe'),
  );
}

describe.each<InsertStrategy>(['copy-first', 'staging-only'])('EventRepository.insertEvents (%s)', (strategy) => {
  const repo = () => new EventRepository(testDb.db, strategy);
  const device = (name: string) => `${strategy}-${name}`;

  it('stores a new batch and counts a re-post of it as duplicates without changing anything', async () => {
    const events = mixedBatch(device('repost'), 10);

    const first = await repo().insertEvents(events, RECEIVED_AT);
    const again = await repo().insertEvents(events, '2024-03-03T00:00:00.000Z');

    expect(first).toMatchObject({ inserted: 10, duplicates: 0 });
    expect(again).toEqual({ inserted: 0, duplicates: 10, touchedDevices: [] });
    expect(await storedCount(device('repost'))).toBe(10);
    const received = await testDb.db.query<{ r: string }>(
      `SELECT DISTINCT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS r FROM device_events
       WHERE device_id = $1`,
      [device('repost')],
    );
    expect(received.rows).toEqual([{ r: '2024-03-02' }]);
  });

  it('keeps counts and touched devices right across re-posts and new batches on one repository', async () => {
    const one = repo();
    const [a, b, c] = [mixedBatch(device('seq'), 4), mixedBatch(device('seq'), 4), mixedBatch(device('seq'), 4)];

    const outcomes = [
      await one.insertEvents(a, RECEIVED_AT),
      await one.insertEvents(a, RECEIVED_AT),
      await one.insertEvents([...b, a[0]], RECEIVED_AT),
      await one.insertEvents(c, RECEIVED_AT),
    ];

    expect(outcomes.map((o) => [o.inserted, o.duplicates, o.touchedDevices])).toEqual([
      [4, 0, [device('seq')]],
      [0, 4, []],
      [4, 1, [device('seq')]],
      [4, 0, [device('seq')]],
    ]);
    expect(await storedCount(device('seq'))).toBe(12);
  });

  it('counts an event repeated inside one batch once', async () => {
    const original = injectionInto(device('inbatch'), 1, 'a.exe');
    const changed = { ...original, fileName: 'changed.exe' };
    const events = [original, changed, original, networkEvent({ deviceId: device('inbatch') })];

    const outcome = await repo().insertEvents(events, RECEIVED_AT);

    expect(outcome).toMatchObject({ inserted: 2, duplicates: 2 });
    const stored = await testDb.db.query<{ file_name: string }>(
      'SELECT file_name FROM device_events WHERE device_id = $1',
      [device('inbatch')],
    );
    expect(stored.rows).toEqual([{ file_name: 'a.exe' }]);
  });

  it('treats the same key in the two tables as two events', async () => {
    const injection = injectionInto(device('tables'), 1, 'a.exe', { eventKey: 'r:shared' });
    const connection = connectionFrom(device('tables'), 1, 'a.exe', { eventKey: 'r:shared' });

    const outcome = await repo().insertEvents([injection, connection], RECEIVED_AT);

    expect(outcome).toMatchObject({ inserted: 2, duplicates: 0 });
  });

  it('inserts only the new part of a partly stored batch', async () => {
    const old = mixedBatch(device('partial'), 6);
    await repo().insertEvents(old.slice(0, 3), RECEIVED_AT);

    const outcome = await repo().insertEvents([...old.slice(3), ...old.slice(0, 3)], RECEIVED_AT);

    expect(outcome).toMatchObject({ inserted: 3, duplicates: 3 });
    expect(await storedCount(device('partial'))).toBe(6);
  });

  it('stores each event once when two calls post the same batch at the same time', async () => {
    const events = mixedBatch(device('concurrent'), 400);

    const outcomes = await Promise.all([
      repo().insertEvents(events, RECEIVED_AT),
      repo().insertEvents(events, RECEIVED_AT),
    ]);

    expect(outcomes[0].inserted + outcomes[1].inserted).toBe(400);
    expect(outcomes[0].duplicates + outcomes[1].duplicates).toBe(400);
    expect(await storedCount(device('concurrent'))).toBe(400);
  });

  it('does not deadlock when concurrent batches overlap in a different order', async () => {
    for (const round of [1, 2, 3, 4]) {
      const events = mixedBatch(device(`overlap-${round}`), 600);
      const forward = events.slice(0, 400);
      const backward = events.slice(200).reverse();

      const outcomes = await Promise.all([
        repo().insertEvents(forward, RECEIVED_AT),
        repo().insertEvents(backward, RECEIVED_AT),
      ]);

      expect(outcomes[0].inserted + outcomes[1].inserted).toBe(600);
      expect(await storedCount(device(`overlap-${round}`))).toBe(600);
    }
  });

  it('reports the devices whose new rows can matter to detection', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(device);
    const events: CanonicalEvent[] = [
      deviceEvent({ deviceId: a, actionType: 'ntallocatevirtualmemoryremoteapicall' }),
      deviceEvent({ deviceId: b, actionType: 'ProcessCreated' }),
      networkEvent({ deviceId: c, actionType: 'ConnectionSuccess' }),
      networkEvent({ deviceId: d, actionType: 'ConnectionFailed' }),
      networkEvent({ deviceId: d, actionType: 'connectionsuccess' }),
    ];
    const stored = deviceEvent({ deviceId: d, actionType: 'QueueUserApcRemoteApiCall' });
    await repo().insertEvents([stored], RECEIVED_AT);

    const outcome = await repo().insertEvents([...events, stored], RECEIVED_AT);

    expect(outcome.touchedDevices).toEqual([a, c]);
    expect(outcome).toMatchObject({ inserted: 5, duplicates: 1 });
  });

  it('returns nothing touched for an empty batch', async () => {
    expect(await repo().insertEvents([], RECEIVED_AT)).toEqual({ inserted: 0, duplicates: 0, touchedDevices: [] });
  });

  it('rolls the whole batch back when a row cannot be stored', async () => {
    const good = injectionInto(device('rollback'), 1, 'a.exe');
    const bad = networkEvent({ deviceId: device('rollback'), timestamp: 'not a time' });

    await expect(repo().insertEvents([good, bad], RECEIVED_AT)).rejects.toMatchObject({ code: '22007' });

    expect(await storedCount(device('rollback'))).toBe(0);
  });
});

describe('EventRepository raw round trip', () => {
  it('gives back the raw record exactly as stored, nested, unicode and large numbers included', async () => {
    const raw = {
      Timestamp: '2023-10-18T14:37:28.2012261Z',
      FolderPath: 'C:\\Users\\Öda\\AppData\\Local\\Temp\\"x", y\nz',
      Nested: { Level: [1, 2.5, -3e-7, { Deep: [null, true, false, ''] }], Emoji: '🛡️ защита 保护' },
      Big: 9_007_199_254_740_993,
      Huge: 1e300,
      Small: 12_345_678_901_234_567_890,
      Escapes: 'tab\tquote" backslash\\ slash/ \\u0000 as text',
      Empty: {},
      List: [],
    };
    const event = deviceEvent({ deviceId: 'raw-device', raw });
    const repo = new EventRepository(testDb.db);
    await repo.insertEvents([event], RECEIVED_AT);

    const ref = { table: EventTable.DeviceEvents, deviceId: 'raw-device', eventKey: event.eventKey };
    const [found] = await repo.getRawEvents([ref]);

    expect(found.raw).toEqual(raw);
    expect(found).toMatchObject({ table: EventTable.DeviceEvents, deviceId: 'raw-device', timestamp: event.timestamp });
  });

  it('stores a raw value that is a bare JSON string as a JSON string', async () => {
    const event = networkEvent({ deviceId: 'raw-device', raw: 'a line, as "received"' });
    const repo = new EventRepository(testDb.db);
    await repo.insertEvents([event], RECEIVED_AT);

    const ref = { table: EventTable.DeviceNetworkEvents, deviceId: 'raw-device', eventKey: event.eventKey };
    const found = await repo.getRawEvents([ref]);

    expect(found.map((f) => f.raw)).toEqual(['a line, as "received"']);
  });

  it('refuses a NUL character with an input error and stores nothing', async () => {
    const repo = new EventRepository(testDb.db);
    const event = deviceEvent({ deviceId: 'nul-device', raw: { Bad: 'a\u0000b' } });

    await expect(repo.insertEvents([event], RECEIVED_AT)).rejects.toMatchObject({ code: 'invalid_input' });

    expect(await storedCount('nul-device')).toBe(0);
  });
});
