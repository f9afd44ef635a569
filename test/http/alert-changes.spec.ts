import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow, type MdeRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const FEED = '/api/v1/alerts/changes';
const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';

describe('the alert change feed, polled as a SOAR platform would', () => {
  let t: TestApp;
  let last = 0;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const post = (table: string, rows: MdeRow[]) => t.postRows(table, rows);
  const attack = async (deviceId: string, at = '2024-03-01T10:00:00.0000000Z') => {
    await post('DeviceEvents', [injectionRow({ DeviceId: deviceId, Timestamp: at })]).expect(200);
    await post('DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId })]).expect(200);
  };
  /** One poll from the last sequence seen; returns (device, status, revision) per item and moves `last` on. */
  const poll = async (limit?: number) => {
    const reply = await t
      .http()
      .get(FEED)
      .query(limit ? { after: last, limit } : { after: last });
    expect(reply.status).toBe(200);
    const sequences = reply.body.items.map((i: any) => i.sequence);
    expect(sequences).toEqual([...sequences].sort((a: number, b: number) => a - b));
    expect(sequences.every((s: number) => s > last)).toBe(true);
    last = reply.body.lastSequence;

    return reply.body.items.map((i: any) => `${i.alert.deviceId} ${i.alert.status} r${i.alert.revision}`);
  };

  it('starts empty', async () => {
    expect(await poll()).toEqual([]);
    expect(last).toBe(0);
  });

  it('gives a new alert once', async () => {
    await attack('cf-1');

    expect(await poll()).toEqual(['cf-1 new r1']);
    expect(await poll()).toEqual([]);
  });

  it('gives late evidence on an old alert and a new alert in change order, each once', async () => {
    await attack('cf-2');
    await post('DeviceEvents', [injectionRow({ DeviceId: 'cf-1', Timestamp: '2024-03-01T09:59:00.0000000Z' })]);

    expect(await poll()).toEqual(['cf-2 new r1', 'cf-1 new r2']);
    expect(await poll()).toEqual([]);
  });

  it('gives nothing for a re-run that changes nothing, and a retraction when one does', async () => {
    await t.http().post(`${RULE}/rerun`).expect(200);
    expect(await poll()).toEqual([]);

    await t.excludeAndRerun({ deviceId: 'cf-2' });

    expect(await poll()).toEqual(['cf-2 retracted r2']);
  });

  it('pages with limit without missing or repeating a change', async () => {
    const start = last;
    await attack('cf-3');
    await attack('cf-4');
    await attack('cf-5');

    const seen = [...(await poll(2)), ...(await poll(2)), ...(await poll(2))];

    expect(seen).toEqual(['cf-3 new r1', 'cf-4 new r1', 'cf-5 new r1']);
    expect(last).toBeGreaterThan(start);
  });

  it('refuses a negative or non-numeric sequence', async () => {
    expect((await t.http().get(FEED).query({ after: -1 })).status).toBe(400);
    expect((await t.http().get(FEED).query({ after: 'x' })).status).toBe(400);
  });

  it('refuses a cursor past the newest change (409 with the newest number) instead of waiting silently', async () => {
    const reply = await t
      .http()
      .get(FEED)
      .query({ after: last + 1000 });

    expect(reply.status).toBe(409);
    expect(reply.body.details).toEqual({ field: 'after', newestSequence: last });
  });
});
