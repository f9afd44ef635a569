import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow, type MdeRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('alert triage: PATCH with If-Match, history with who and when', () => {
  let t: TestApp;
  let analyst: string;
  let other: string;
  let reader: string;

  beforeAll(async () => {
    t = await createTestApp();
    const key = async (name: string, scopes: string[]) =>
      (await t.http().post('/api/v1/api-keys').send({ name, scopes }).expect(201)).body.key as string;
    analyst = await key('xsoar-playbook', ['read', 'triage']);
    other = await key('tines-story', ['read', 'triage']);
    reader = await key('dashboard', ['read']);
  });
  afterAll(async () => t.close());

  const post = (table: string, rows: MdeRow[]) => t.postRows(table, rows);
  const attack = async (deviceId: string, fileName = 'notepad.exe') => {
    await post('DeviceEvents', [injectionRow({ DeviceId: deviceId, FileName: fileName })]).expect(200);
    await post('DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId, InitiatingProcessFileName: fileName })]);
    const list = await t.http().get('/api/v1/alerts').query({ deviceId });
    expect(list.body.items).toHaveLength(1);

    return list.body.items[0].id as string;
  };
  const read = (id: string, key = analyst) => t.anonymous().get(`/api/v1/alerts/${id}`).set('X-API-Key', key);
  const patch = (id: string, body: object, ifMatch?: string, key = analyst) => {
    const req = t.anonymous().patch(`/api/v1/alerts/${id}`).set('X-API-Key', key);
    if (ifMatch !== undefined) req.set('If-Match', ifMatch);

    return req.send(body);
  };
  const history = async (id: string) => (await t.http().get(`/api/v1/alerts/${id}/history`)).body.items as any[];

  it('serves the revision as ETag and starts every alert new and unassigned', async () => {
    const id = await attack('tr-1');
    const reply = await read(id);

    expect(reply.headers.etag).toBe('"1"');
    expect(reply.body).toMatchObject({
      status: 'new',
      triageStatus: 'new',
      classification: null,
      assignedTo: null,
      revision: 1,
    });
  });

  it('changes status, classification and assignee under If-Match and records who did it', async () => {
    const id = await attack('tr-2');
    const etag = (await read(id)).headers.etag;

    const reply = await patch(id, { status: 'in_progress', assignedTo: 'alice', comment: 'looking' }, etag);

    expect(reply.status).toBe(200);
    expect(reply.headers.etag).toBe('"2"');
    expect(reply.body).toMatchObject({ status: 'in_progress', triageStatus: 'in_progress', assignedTo: 'alice' });
    const entries = await history(id);
    expect(entries.map((e) => [e.actor, e.type, e.revision])).toEqual([
      ['detection', 'created', 1],
      ['xsoar-playbook', 'status', 2],
    ]);
    expect(entries[1]).toMatchObject({
      comment: 'looking',
      changes: {
        status: { from: 'new', to: 'in_progress' },
        triageStatus: { from: 'new', to: 'in_progress' },
        assignedTo: { from: null, to: 'alice' },
      },
    });
    expect(Date.parse(entries[1].changedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(Object.keys(entries[1].changes.status)).toEqual(['from', 'to']);
  });

  it('lets only one of two playbooks that read the same revision write (412 for the other)', async () => {
    const id = await attack('tr-3');
    const etag = (await read(id)).headers.etag;

    const first = await patch(id, { status: 'resolved', classification: 'true_positive' }, etag, analyst);
    const second = await patch(id, { status: 'false_positive' }, etag, other);

    expect(first.status).toBe(200);
    expect(second.status).toBe(412);
    expect(second.body).toMatchObject({ error: 'precondition_failed', details: { currentEtag: '"2"' } });
    expect(second.headers.etag).toBe('"2"');
    expect((await read(id)).body).toMatchObject({ status: 'resolved', classification: 'true_positive' });
    expect((await history(id)).map((e) => e.actor)).toEqual(['detection', 'xsoar-playbook']);
  });

  it('needs If-Match (428), accepts * and weak tags, and refuses a read-only key (403)', async () => {
    const id = await attack('tr-4');

    const missing = await patch(id, { status: 'in_progress' });
    const star = await patch(id, { assignedTo: 'bob' }, '*');
    const weak = await patch(id, { assignedTo: null }, 'W/"2", "17"');
    const readOnly = await patch(id, { status: 'resolved' }, '*', reader);

    expect(missing.status).toBe(428);
    expect(missing.headers.etag).toBe('"1"');
    expect(missing.body.details).toMatchObject({ field: 'If-Match', currentEtag: '"1"' });
    expect([star.status, weak.status]).toEqual([200, 200]);
    expect(weak.body.assignedTo).toBeNull();
    expect(readOnly.status).toBe(403);
  });

  it('refuses values outside the vocabulary, naming the field', async () => {
    const id = await attack('tr-5');

    const engineStatus = await patch(id, { status: 'retracted' }, '*');
    const badClass = await patch(id, { classification: 'maybe' }, '*');
    const unknown = await patch(id, { severity: 'low' }, '*');
    const longComment = await patch(id, { comment: 'x'.repeat(4001) }, '*');
    const missing = await patch('00000000-0000-4000-8000-000000000000', { status: 'resolved' }, '*');

    expect([engineStatus.status, badClass.status, unknown.status, longComment.status]).toEqual([400, 400, 400, 400]);
    expect(engineStatus.body.message).toMatch(/status must be one of/);
    expect(badClass.body.message).toMatch(/classification/);
    expect(unknown.body.message).toMatch(/severity should not exist/);
    expect(longComment.body.message).toMatch(/comment/);
    expect(missing.status).toBe(404);
    expect((await read(id)).body.revision).toBe(1);
  });

  it('writes nothing for a request that changes nothing, and records a comment on its own', async () => {
    const id = await attack('tr-6');

    const same = await patch(id, { status: 'new' }, '"1"');
    const note = await patch(id, { comment: 'called the user' }, '"1"');

    expect(same.headers.etag).toBe('"1"');
    expect(note.headers.etag).toBe('"2"');
    expect((await history(id)).at(-1)).toMatchObject({
      type: 'updated',
      actor: 'xsoar-playbook',
      changes: {},
      comment: 'called the user',
    });
  });

  it('keeps the triage status when new evidence arrives, and says so in the history', async () => {
    const id = await attack('tr-7');
    await patch(id, { status: 'in_progress' }, '*').expect(200);

    await post('DeviceEvents', [injectionRow({ DeviceId: 'tr-7', Timestamp: '2024-03-01T09:58:00.0000000Z' })]);
    const after = await read(id);

    expect(after.body).toMatchObject({ status: 'in_progress', triageStatus: 'in_progress', revision: 3 });
    expect((await history(id)).at(-1)).toMatchObject({ actor: 'detection', type: 'updated', revision: 3 });
  });

  it('shows a suppression on an open alert, not a closed one, and restores the triage status when lifted', async () => {
    const open = await attack('tr-8', 'winword.exe');
    const closed = await attack('tr-9', 'winword.exe');
    await patch(open, { status: 'in_progress' }, '*').expect(200);
    await patch(closed, { status: 'false_positive', classification: 'benign_positive' }, '*').expect(200);

    const suppression = await t
      .http()
      .post('/api/v1/suppressions')
      .send({ entityType: 'targetFileName', value: 'winword.exe', durationMinutes: 60, reason: 'macro tests' });
    const held = [(await read(open)).body, (await read(closed)).body];
    await t.http().delete(`/api/v1/suppressions/${suppression.body.id}`).expect(200);
    const released = [(await read(open)).body, (await read(closed)).body];

    expect(held.map((a) => [a.status, a.triageStatus, a.suppression?.id])).toEqual([
      ['suppressed', 'in_progress', suppression.body.id],
      ['false_positive', 'false_positive', suppression.body.id],
    ]);
    expect(released.map((a) => [a.status, a.suppression])).toEqual([
      ['in_progress', null],
      ['false_positive', null],
    ]);
    expect((await history(open)).slice(-2).map((e) => [e.type, e.changes.status, e.comment])).toEqual([
      ['status', { from: 'in_progress', to: 'suppressed' }, 'held back by a suppression'],
      ['status', { from: 'suppressed', to: 'in_progress' }, 'suppression lifted'],
    ]);
  });

  it('keeps a retracted alert retracted: its status cannot be set (409), its classification can', async () => {
    const id = await attack('tr-10', 'mspaint.exe');
    await t.excludeAndRerun({ deviceId: 'tr-10', targetFileName: 'mspaint.exe' });

    const status = await patch(id, { status: 'resolved' }, '*');
    const classification = await patch(id, { classification: 'benign_positive', comment: 'admin tool' }, '*');

    expect(status.status).toBe(409);
    expect(status.body.details).toMatchObject({ field: 'status' });
    expect(classification.status).toBe(200);
    expect(classification.body).toMatchObject({ status: 'retracted', classification: 'benign_positive' });
    expect((await history(id)).map((e) => [e.actor, e.type])).toEqual([
      ['detection', 'created'],
      ['detection', 'status'],
      ['xsoar-playbook', 'updated'],
    ]);
  });

  it('puts analyst changes on the change feed', async () => {
    const id = await attack('tr-11');
    const before = (await t.http().get('/api/v1/alerts/changes').query({ after: 0, limit: 1000 })).body.lastSequence;

    await patch(id, { status: 'resolved' }, '*').expect(200);
    const feed = (await t.http().get('/api/v1/alerts/changes').query({ after: before })).body;

    expect(feed.items.map((i: any) => [i.alert.id, i.alert.status])).toEqual([[id, 'resolved']]);
  });

  it('pages the history and answers 404 for unknown alerts', async () => {
    const id = await attack('tr-12');
    for (const note of ['a', 'b', 'c']) await patch(id, { comment: note }, '*').expect(200);

    const first = (await t.http().get(`/api/v1/alerts/${id}/history`).query({ limit: 2 })).body;
    const rest = (await t.http().get(`/api/v1/alerts/${id}/history`).query({ after: first.lastSequence })).body;
    const missing = await t.http().get('/api/v1/alerts/00000000-0000-4000-8000-000000000000/history');

    expect(first.items.map((e: any) => e.comment)).toEqual([null, 'a']);
    expect(rest.items.map((e: any) => e.comment)).toEqual(['b', 'c']);
    expect(missing.status).toBe(404);
  });

  it('records the key id too, and sends a triage status change on a suppressed alert as a status change', async () => {
    const id = await attack('tr-13', 'excel.exe');
    const suppression = await t
      .http()
      .post('/api/v1/suppressions')
      .send({ entityType: 'targetFileName', value: 'excel.exe', durationMinutes: 60, reason: 'triage test' });
    await patch(id, { status: 'in_progress' }, '*').expect(200);
    await t.http().delete(`/api/v1/suppressions/${suppression.body.id}`).expect(200);

    const keys = (await t.http().get('/api/v1/api-keys')).body as Array<{ id: string; name: string }>;
    const entry = (await history(id)).find((e) => e.actor === 'xsoar-playbook');
    expect(entry).toMatchObject({
      type: 'status',
      actorKeyId: keys.find((k) => k.name === 'xsoar-playbook')!.id,
      changes: { triageStatus: { from: 'new', to: 'in_progress' } },
    });
    expect(entry.changes.status).toBeUndefined();
    expect((await history(id))[0]).toMatchObject({ actor: 'detection', actorKeyId: null });
  });

  it('refuses NUL characters in text fields, naming the field', async () => {
    const id = await attack('tr-14');

    const reply = await patch(id, { comment: 'a\u0000b' }, '*');

    expect(reply.status).toBe(400);
    expect(reply.body.message).toMatch(/comment must not contain NUL/);
  });
});
