import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow } from '../support/mde-rows.js';
import { networkConnect, toNdjsonLines } from '../support/sysmon-events.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('GET /api/v1/devices', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    const post = (path: string, rows: unknown[]) =>
      t.http().post(path).set('content-type', 'application/json').send(JSON.stringify(rows)).expect(200);
    await post('/api/v1/events/DeviceEvents', [injectionRow({ DeviceId: 'dev-a', DeviceName: 'WS-A.corp' })]);
    await post('/api/v1/events/DeviceNetworkEvents', [
      connectionRow({ DeviceId: 'dev-a', DeviceName: 'WS-A.corp' }),
      connectionRow({ DeviceId: 'dev-b', DeviceName: 'ws-b', RemotePort: 443 }),
    ]);
    const sysmon = networkConnect('WS-C.corp', '2024-03-01 11:00:00.000', {
      guid: '{00000000-0000-0000-0000-00000000000c}',
      pid: 77,
      image: 'C:\\x.exe',
    });
    await t
      .http()
      .post('/api/v1/events/sysmon')
      .set('content-type', 'application/x-ndjson')
      .send(toNdjsonLines([sysmon]));
  });
  afterAll(async () => t.close());

  it('lists every device with its names, event counts, first and last event and alert counts', async () => {
    const reply = await t.http().get('/api/v1/devices');

    expect(reply.status).toBe(200);
    expect(reply.body.nextAfter).toBeNull();
    expect(reply.body.items).toEqual([
      {
        deviceId: 'dev-a',
        source: 'defender',
        names: ['ws-a.corp'],
        firstSeen: '2024-03-01T10:00:00.1234567Z',
        lastSeen: '2024-03-01T10:05:00.0000000Z',
        events: { DeviceEvents: 1, DeviceNetworkEvents: 1 },
        alerts: { new: 1, in_progress: 0, resolved: 0, false_positive: 0, retracted: 0, suppressed: 0 },
      },
      expect.objectContaining({ deviceId: 'dev-b', names: ['ws-b'], events: { DeviceNetworkEvents: 1 } }),
      expect.objectContaining({
        deviceId: 'host:ws-c.corp',
        source: 'sysmon',
        names: ['ws-c.corp'],
        events: { SysmonEvents: 1 },
        alerts: { new: 0, in_progress: 0, resolved: 0, false_positive: 0, retracted: 0, suppressed: 0 },
      }),
    ]);
  });

  it('pages by device id', async () => {
    const first = (await t.http().get('/api/v1/devices').query({ limit: 2 })).body;
    const second = (await t.http().get('/api/v1/devices').query({ limit: 2, after: first.nextAfter })).body;

    expect(first.items.map((d: any) => d.deviceId)).toEqual(['dev-a', 'dev-b']);
    expect(first.nextAfter).toBe('dev-b');
    expect(second.items.map((d: any) => d.deviceId)).toEqual(['host:ws-c.corp']);
    expect(second.nextAfter).toBeNull();
    expect((await t.http().get('/api/v1/devices').query({ limit: 0 })).status).toBe(400);
  });
});
