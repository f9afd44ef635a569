import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';

describe('rule settings and re-run', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const post = (path: string, rows: unknown[]) =>
    t.http().post(path).set('content-type', 'application/json').send(JSON.stringify(rows));

  it('serves the defaults of the reference rule', async () => {
    const reply = await t.http().get(RULE);

    expect(reply.status).toBe(200);
    expect(reply.body.settings).toMatchObject({ timeframeMinutes: 120, adwsPorts: [9389] });
    expect(reply.body.settings.exclusions).toHaveLength(4);
    expect(reply.body.defaults).toEqual(reply.body.settings);
  });

  it('refuses invalid settings with 400 and keeps the old ones', async () => {
    const current = (await t.http().get(RULE)).body.settings;

    const badPort = await t
      .http()
      .put(RULE)
      .send({ ...current, adwsPorts: [70000] });
    const emptyExclusion = await t
      .http()
      .put(RULE)
      .send({ ...current, exclusions: [{ description: 'x', folderPathMatch: 'equals' }] });
    const unknownField = await t
      .http()
      .put(RULE)
      .send({ ...current, colour: 'blue' });
    const unknownRule = await t.http().get('/api/v1/rules/nope');

    expect(badPort.status).toBe(400);
    expect(badPort.body.message).toMatch(/adwsPorts/);
    expect(emptyExclusion.status).toBe(400);
    expect(emptyExclusion.body.message).toMatch(/exclusions\[0\]/);
    expect(unknownField.status).toBe(400);
    expect(unknownRule.status).toBe(404);
    expect((await t.http().get(RULE)).body.settings).toEqual(current);
  });

  it('re-runs stored events under new settings: a new port raises, an exclusion retracts', async () => {
    await post('/api/v1/events/DeviceEvents', [injectionRow({ DeviceId: 'rerun-1' })]);
    await post('/api/v1/events/DeviceNetworkEvents', [connectionRow({ DeviceId: 'rerun-1', RemotePort: 8080 })]);
    expect((await t.http().get('/api/v1/alerts').query({ deviceId: 'rerun-1' })).body.items).toHaveLength(0);
    const defaults = (await t.http().get(RULE)).body.settings;

    await t
      .http()
      .put(RULE)
      .send({ ...defaults, adwsPorts: [9389, 8080] })
      .expect(200);
    const raised = await t.http().post(`${RULE}/rerun`);
    const alert = (await t.http().get('/api/v1/alerts').query({ deviceId: 'rerun-1' })).body.items[0];
    const exclusion = {
      description: 'lab',
      injectorFileName: 'PowerShell.exe',
      injectorFolderPath: null,
      folderPathMatch: 'equals',
    };
    await t
      .http()
      .put(RULE)
      .send({ ...defaults, adwsPorts: [9389, 8080], exclusions: [...defaults.exclusions, exclusion] })
      .expect(200);
    const retracted = await t.http().post(`${RULE}/rerun`);
    const after = (await t.http().get(`/api/v1/alerts/${alert.id}`)).body;

    expect(raised.body).toMatchObject({ created: 1, retracted: 0 });
    expect(alert.connections[0].remotePort).toBe(8080);
    expect(retracted.body).toMatchObject({ created: 0, retracted: 1 });
    expect(after).toMatchObject({ status: 'retracted', revision: alert.revision + 1 });
    await t.http().put(RULE).send(defaults).expect(200);
  });
});
