import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** Five devices, one alert each, connections one minute apart. */
async function seedAlerts(t: TestApp): Promise<void> {
  const injections = [];
  const connections = [];
  for (let i = 0; i < 5; i++) {
    const DeviceId = `page-dev-${i}`;
    injections.push(injectionRow({ DeviceId, Timestamp: `2024-05-01T10:0${i}:00Z` }));
    connections.push(connectionRow({ DeviceId, Timestamp: `2024-05-01T10:0${i}:30Z` }));
  }
  const post = (path: string, rows: unknown[]) =>
    t.http().post(path).set('content-type', 'application/json').send(JSON.stringify(rows));
  await post('/api/v1/events/DeviceEvents', injections);
  await post('/api/v1/events/DeviceNetworkEvents', connections);
}

describe('alerts API', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await seedAlerts(t);
  });
  afterAll(async () => t.close());

  it('pages through every alert exactly once in timestamp order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply = await t
        .http()
        .get('/api/v1/alerts')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(reply.status).toBe(200);
      seen.push(...reply.body.items.map((a: { deviceId: string }) => a.deviceId));
      cursor = reply.body.nextCursor;
      pages++;
    } while (cursor);

    expect(pages).toBe(3);
    expect(seen).toEqual(['page-dev-0', 'page-dev-1', 'page-dev-2', 'page-dev-3', 'page-dev-4']);
  });

  it('filters by device, status and time range', async () => {
    const byDevice = await t.http().get('/api/v1/alerts').query({ deviceId: 'page-dev-3' });
    const byRange = await t
      .http()
      .get('/api/v1/alerts')
      .query({ from: '2024-05-01T10:01:30Z', to: '2024-05-01T10:03:30Z' });
    const retracted = await t.http().get('/api/v1/alerts').query({ status: 'retracted' });

    expect(byDevice.body.items.map((a: { deviceId: string }) => a.deviceId)).toEqual(['page-dev-3']);
    expect(byRange.body.items.map((a: { deviceId: string }) => a.deviceId)).toEqual([
      'page-dev-1',
      'page-dev-2',
      'page-dev-3',
    ]);
    expect(retracted.body).toEqual({ items: [], nextCursor: null });
  });

  it('serves one alert by id and 404 for an unknown or malformed id', async () => {
    const [first] = (await t.http().get('/api/v1/alerts').query({ limit: 1 })).body.items;

    const found = await t.http().get(`/api/v1/alerts/${first.id}`);
    const unknown = await t.http().get('/api/v1/alerts/00000000-0000-5000-8000-000000000000');
    const malformed = await t.http().get('/api/v1/alerts/not-a-uuid');

    expect(found.body).toEqual(first);
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not_found', requestId: expect.any(String) });
  });

  it('answers 400 for invalid query values, naming them', async () => {
    const badLimit = await t.http().get('/api/v1/alerts').query({ limit: 0 });
    const badStatus = await t.http().get('/api/v1/alerts').query({ status: 'open' });
    const badTime = await t.http().get('/api/v1/alerts').query({ from: 'last tuesday' });
    const badCursor = await t.http().get('/api/v1/alerts').query({ cursor: 'abc' });

    expect(badLimit.status).toBe(400);
    expect(badLimit.body.message).toMatch(/limit/);
    expect(badStatus.body.message).toMatch(/status/);
    expect(badTime.body.message).toMatch(/from/);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.message).toMatch(/cursor/);
  });

  it('answers 400 for a range that ends before it starts and for a NUL character in the URL', async () => {
    const backwards = await t
      .http()
      .get('/api/v1/alerts')
      .query({ from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' });
    const dateOnly = await t.http().get('/api/v1/alerts?from=2024-05-01');
    const nulQuery = await t.http().get('/api/v1/alerts?deviceId=%00');
    const nulPath = await t.http().get('/api/v1/devices/%00/graph');

    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toMatch(/from is later than to/);
    expect(dateOnly.status).toBe(400);
    expect(dateOnly.body.message).toMatch(/^from /);
    expect(nulQuery.status).toBe(400);
    expect(nulPath.status).toBe(400);
  });
});
