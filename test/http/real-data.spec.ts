import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hasSharedFile, sharedFile } from '../support/shared-data.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const PORTAL_CSV = 'dafneb-defender-hunting/advanced_hunting_test.csv';
const HUNTING_UNION = new URL('../fixtures/otrf/simuland-m365d-events.ndjson', import.meta.url);
const STREAMING = 'elastic-m365-defender/test-device.log';
const STREAMING_SUBSET = 'elastic-m365-defender/device-and-network.ndjson';

describe('real Defender exports ingest without unexplained rejections and raise no alert', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const post = async (file: string, contentType: string) =>
    t
      .http()
      .post('/api/v1/events')
      .set('content-type', contentType)
      .send(await readFile(sharedFile(file)));

  it.skipIf(!hasSharedFile(PORTAL_CSV))(
    'portal CSV export of a union of three tables (26 rows, 72 columns)',
    async () => {
      const reply = await post(PORTAL_CSV, 'text/csv');

      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ received: 26, rejected: 0, errors: [] });
      expect(reply.body.inserted + reply.body.skipped).toBe(26);
      expect(reply.body.skipped).toBeGreaterThan(0);
    },
  );

  it('bundled hunting export with union-suffixed columns (9 rows, 4 of them not endpoint tables)', async () => {
    const reply = await t
      .http()
      .post('/api/v1/events')
      .set('content-type', 'application/x-ndjson')
      .send(await readFile(HUNTING_UNION));

    expect(reply.body).toMatchObject({ received: 9, inserted: 5, skipped: 4, rejected: 0 });
  });

  it.skipIf(!hasSharedFile(STREAMING))('streaming-API records of ten tables, with one redelivered record', async () => {
    const subset = await post(STREAMING_SUBSET, 'application/x-ndjson');
    const whole = await post(STREAMING, 'application/x-ndjson');

    expect(subset.body).toMatchObject({ received: 18, inserted: 17, duplicates: 1, rejected: 0 });
    expect(whole.body).toMatchObject({ received: 31, inserted: 0, duplicates: 18, skipped: 13, rejected: 0 });
  });

  it('raises no alert from any of them', async () => {
    const alerts = await t.http().get('/api/v1/alerts');

    expect(alerts.body.items).toEqual([]);
  });
});
