import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SuppressionRepository } from '../../src/suppressions/suppression.repository.js';
import { connectionRow, injectionRow, type MdeRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const SUPPRESSIONS = '/api/v1/suppressions';
const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';

describe('per-entity suppressions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const post = (table: string, rows: MdeRow[]) => t.postRows(table, rows);
  const attack = async (deviceId: string, fileName = 'notepad.exe', injector = 'powershell.exe') => {
    const injection = injectionRow({ DeviceId: deviceId, FileName: fileName, InitiatingProcessFileName: injector });
    await post('DeviceEvents', [injection]).expect(200);
    await post('DeviceNetworkEvents', [
      connectionRow({ DeviceId: deviceId, InitiatingProcessFileName: fileName }),
    ]).expect(200);
  };
  const alertOn = async (deviceId: string) => {
    const items = (await t.http().get('/api/v1/alerts').query({ deviceId })).body.items as Record<string, any>[];
    expect(items).toHaveLength(1);
    return items[0]!;
  };

  it('holds back existing and new alerts on a target name, recording itself on them', async () => {
    await attack('sup-1');
    expect(await alertOn('sup-1')).toMatchObject({ status: 'new', suppression: null });

    const created = await t
      .http()
      .post(SUPPRESSIONS)
      .send({ entityType: 'targetFileName', value: 'Notepad.EXE', durationMinutes: 60, reason: 'lab' });
    await attack('sup-2');
    await attack('sup-3', 'mmc.exe');

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ entityType: 'targetFileName', entityValue: 'notepad.exe', liftedAt: null });
    const record = { id: created.body.id, entityType: 'targetFileName', entityValue: 'notepad.exe' };
    expect(await alertOn('sup-1')).toMatchObject({ status: 'suppressed', suppression: record });
    expect(await alertOn('sup-2')).toMatchObject({ status: 'suppressed', suppression: record });
    expect(await alertOn('sup-3')).toMatchObject({ status: 'new', suppression: null });
  });

  it('stays in force through new evidence and re-runs', async () => {
    await post('DeviceNetworkEvents', [
      connectionRow({ DeviceId: 'sup-1', Timestamp: '2024-03-01T10:06:00.0000000Z' }),
    ]).expect(200);
    await t.http().post(`${RULE}/rerun`).expect(200);

    const alert = await alertOn('sup-1');
    expect(alert).toMatchObject({ status: 'suppressed', connections: [expect.anything(), expect.anything()] });
    expect(alert.revision).toBeGreaterThan(1);
  });

  it('holds back alerts by device and by injector name', async () => {
    await attack('sup-4', 'calc.exe');
    await t.http().post(SUPPRESSIONS).send({ entityType: 'device', value: 'sup-4', durationMinutes: 5, reason: 'x' });
    await attack('sup-5', 'calc.exe', 'rundll32.exe');
    await t
      .http()
      .post(SUPPRESSIONS)
      .send({ entityType: 'injectorFileName', value: 'RUNDLL32.exe', durationMinutes: 5, reason: 'x' });

    expect((await alertOn('sup-4')).suppression).toMatchObject({ entityType: 'device', entityValue: 'sup-4' });
    expect((await alertOn('sup-5')).suppression).toMatchObject({ entityType: 'injectorFileName' });
    expect(await alertOn('sup-3')).toMatchObject({ status: 'new' });
  });

  it('lists suppressions, only those in force with active=true, and ends with expiry', async () => {
    const all = (await t.http().get(SUPPRESSIONS)).body;
    const active = (await t.http().get(SUPPRESSIONS).query({ active: true })).body;
    const inTwoHours = new Date(Date.now() + 2 * 3600_000).toISOString();
    const laterStill = await t.app.get(SuppressionRepository).active(inTwoHours);

    expect(all).toHaveLength(3);
    expect(active).toHaveLength(3);
    expect(laterStill).toEqual([]);
  });

  it('lifting releases the alerts it held at once, and keeps the suppression with liftedAt', async () => {
    const [byName] = (await t.http().get(SUPPRESSIONS)).body;

    const lifted = await t.http().delete(`${SUPPRESSIONS}/${byName.id}`);

    expect(lifted.status).toBe(200);
    expect(lifted.body.liftedAt).not.toBeNull();
    expect(await alertOn('sup-1')).toMatchObject({ status: 'new', suppression: null });
    expect((await t.http().get(SUPPRESSIONS).query({ active: true })).body).toHaveLength(2);
  });

  it('refuses bad input and unknown ids', async () => {
    const noDuration = await t.http().post(SUPPRESSIONS).send({ entityType: 'device', value: 'x', reason: 'r' });
    const badType = await t
      .http()
      .post(SUPPRESSIONS)
      .send({ entityType: 'user', value: 'x', durationMinutes: 5, reason: 'r' });
    const unknown = await t.http().delete(`${SUPPRESSIONS}/6a1c2a9e-4b7d-4e0f-a3c5-8d21e9b04c77`);
    const notAnId = await t.http().delete(`${SUPPRESSIONS}/not-a-uuid`);
    const badFlag = await t.http().get(SUPPRESSIONS).query({ active: 'maybe' });
    const noReason = await t
      .http()
      .post(SUPPRESSIONS)
      .send({ entityType: 'device', value: 'x', durationMinutes: 5, reason: '' });

    expect(noDuration.status).toBe(400);
    expect(badType.status).toBe(400);
    expect(unknown.status).toBe(404);
    expect(notAnId.status).toBe(404);
    expect(badFlag.status).toBe(400);
    expect(noReason.status).toBe(400);
  });
});
