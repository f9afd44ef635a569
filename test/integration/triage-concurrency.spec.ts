import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const DEVICE = 'race-1';
const TARGETS = 30;

/** One injection into each of TARGETS processes (first round only) and, every round, a new ADWS connection of each. */
function round(n: number): string {
  const at = (minute: number, second: number) =>
    new Date(Date.UTC(2024, 2, 1, 10, minute, second)).toISOString().replace('Z', '0000Z');
  const rows = [];
  for (let i = 0; i < TARGETS; i++) {
    const target = { ProcessId: 1000 + i, FileName: `target${i}.exe` };
    if (n === 0) rows.push(injectionRow({ DeviceId: DEVICE, Timestamp: at(0, i), ReportId: 10_000 + i, ...target }));
    rows.push(
      connectionRow({
        DeviceId: DEVICE,
        Timestamp: at(1 + n, i),
        ReportId: 20_000 + n * 1000 + i,
        InitiatingProcessId: target.ProcessId,
        InitiatingProcessFileName: target.FileName,
      }),
    );
  }

  return rows.map((row) => JSON.stringify(row)).join('\n');
}

describe('triage racing detection on the same alerts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const ingest = (n: number) =>
    t.http().post('/api/v1/events').set('content-type', 'application/x-ndjson').send(round(n));

  it('answers every PATCH and ingest without a deadlock, and keeps each history gapless', async () => {
    await ingest(0).expect(200);
    const ids: string[] = (
      await t.http().get('/api/v1/alerts').query({ deviceId: DEVICE, limit: 1000 })
    ).body.items.map((alert: { id: string }) => alert.id);
    expect(ids).toHaveLength(TARGETS);

    const statuses: number[] = [];
    let ingesting = true;
    const analyst = async (worker: number) => {
      for (let i = 0; ingesting; i++) {
        const id = ids[(i * 7 + worker * 11) % ids.length]!;
        const reply = await t
          .http()
          .patch(`/api/v1/alerts/${id}`)
          .set('If-Match', '*')
          .send({ comment: `${worker}/${i}` });
        statuses.push(reply.status);
      }
    };
    const analysts = [1, 2, 3].map(analyst);
    for (let n = 1; n <= 4; n++) statuses.push((await ingest(n)).status);
    ingesting = false;
    await Promise.all(analysts);

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    for (const id of ids) {
      const alert = (await t.http().get(`/api/v1/alerts/${id}`)).body;
      const history = (await t.http().get(`/api/v1/alerts/${id}/history`).query({ limit: 1000 })).body.items;
      expect(history.map((entry: { revision: number }) => entry.revision)).toEqual(
        Array.from({ length: alert.revision }, (_, k) => k + 1),
      );
    }
  }, 120_000);
});
