import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { injectionRow } from '../support/mde-rows.js';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/test-app.js';

/** Streams NDJSON lines with a pause after each, so writes run while the body is still arriving. */
function postSlowly(port: number, lines: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/events/DeviceEvents',
        headers: { 'content-type': 'application/x-ndjson', 'x-api-key': TEST_ADMIN_KEY },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    const next = (k: number) => {
      if (k === lines.length) return void req.end();
      req.write(`${lines[k]}\n`);
      setTimeout(() => next(k + 1), 150);
    };
    next(0);
  });
}

describe('a batch write that fails while the body is still streaming', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp({ ingestBatchSize: 1, ingestWriteConcurrency: 2 });
    await t.db.query(`ALTER TABLE device_events ADD CONSTRAINT no_pid_666 CHECK (process_id <> 666)`);
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => t.close());

  it('ends that ingest with an error reply, keeps the service up, and keeps the batches written before it', async () => {
    const lines = [1, 666, 3, 4].map((pid) =>
      JSON.stringify(injectionRow({ DeviceId: 'write-failure', ProcessId: pid })),
    );

    const reply = await postSlowly(port, lines);
    const health = await t.http().get('/api/v1/health');
    const stored = await t.db.query<{ process_id: string }>(
      `SELECT process_id FROM device_events WHERE device_id = 'write-failure' ORDER BY process_id`,
    );

    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toMatchObject({ error: 'internal_error', requestId: expect.any(String) });
    expect(health.status).toBe(200);
    expect(stored.rows.map((r) => Number(r.process_id))).toContain(1);
    expect(stored.rows.map((r) => Number(r.process_id))).not.toContain(666);
  });
});
