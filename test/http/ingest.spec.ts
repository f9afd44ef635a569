import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  connectionRow,
  injectionRow,
  toCsv,
  toHuntingResponse,
  toNdjson,
  toStreamingRecords,
} from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('ingest over HTTP', () => {
  let t: TestApp;
  let device = 0;
  let deviceId: string;

  beforeAll(async () => {
    t = await createTestApp({ ingestMaxBytes: 64 * 1024 });
  });
  afterAll(async () => t.close());
  beforeEach(() => {
    deviceId = `ingest-dev-${++device}`;
  });

  const postJson = (path: string, body: unknown) =>
    t.http().post(path).set('content-type', 'application/json').send(JSON.stringify(body));

  it('raises the alert by the time the ingest reply arrives, with the exact reference fields', async () => {
    const inj = await postJson('/api/v1/events/DeviceEvents', [injectionRow({ DeviceId: deviceId })]);
    const net = await postJson('/api/v1/events/DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId })]);

    expect(inj.status).toBe(200);
    expect(inj.body).toEqual({ received: 1, inserted: 1, duplicates: 0, skipped: 0, rejected: 0, errors: [] });
    expect(net.body).toMatchObject({ received: 1, inserted: 1 });
    const alerts = await t.http().get('/api/v1/alerts').query({ deviceId });
    expect(alerts.body.items).toHaveLength(1);
    expect(alerts.body.items[0]).toMatchObject({
      ruleId: 'adws-connection-from-process-injection-target',
      status: 'new',
      severity: 'high',
      deviceId,
      deviceName: 'ws01.contoso.local',
      hostName: 'ws01',
      dnsDomain: 'contoso.local',
      timestamp: '2024-03-01T10:05:00.0000000Z',
      processId: 4242,
      fileName: 'notepad.exe',
      injectionMethods: ['CreateRemoteThreadApiCall'],
      injectors: [
        {
          processId: 6008,
          fileName: 'powershell.exe',
          folderPath: 'c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe',
          actionTypes: ['CreateRemoteThreadApiCall'],
          firstSeen: '2024-03-01T10:00:00.1234567Z',
          lastSeen: '2024-03-01T10:00:00.1234567Z',
        },
      ],
      connections: [
        {
          timestamp: '2024-03-01T10:05:00.0000000Z',
          remoteIp: '10.0.0.10',
          remotePort: 9389,
          localIp: '10.0.0.50',
          localPort: 50123,
        },
      ],
      revision: 1,
    });
    expect(alerts.body.items[0].mitre.map((m: { techniqueId: string }) => m.techniqueId)).toEqual([
      'T1055.002',
      'T1087.002',
      'T1119',
    ]);
  });

  it('stores a redelivered body once and leaves the alert untouched', async () => {
    const rows = [
      injectionRow({ DeviceId: deviceId }),
      injectionRow({ DeviceId: deviceId, ActionType: 'queueuserapcremoteapicall' }),
    ];
    const connection = [connectionRow({ DeviceId: deviceId })];
    await postJson('/api/v1/events/DeviceEvents', rows);
    await postJson('/api/v1/events/DeviceNetworkEvents', connection);
    const before = (await t.http().get('/api/v1/alerts').query({ deviceId })).body.items[0];

    const again = await postJson('/api/v1/events/DeviceEvents', rows);
    const againNet = await postJson('/api/v1/events/DeviceNetworkEvents', connection);

    expect(again.body).toMatchObject({ received: 2, inserted: 0, duplicates: 2 });
    expect(againNet.body).toMatchObject({ received: 1, inserted: 0, duplicates: 1 });
    const after = (await t.http().get('/api/v1/alerts').query({ deviceId })).body.items;
    expect(after).toEqual([before]);
    expect(before.injectionMethods).toEqual(['CreateRemoteThreadApiCall', 'QueueUserApcRemoteApiCall']);
  });

  it('does not change an alert when the same events come back in another export shape', async () => {
    const rows = [injectionRow({ DeviceId: deviceId })];
    await postJson('/api/v1/events/DeviceEvents', rows);
    await postJson('/api/v1/events/DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId })]);
    const before = (await t.http().get('/api/v1/alerts').query({ deviceId })).body.items[0];

    const csv = await t.http().post('/api/v1/events/DeviceEvents').set('content-type', 'text/csv').send(toCsv(rows));
    const ndjson = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/x-ndjson')
      .send(toNdjson(rows));
    const hunting = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/json')
      .send(toHuntingResponse(rows));

    for (const reply of [csv, ndjson, hunting])
      expect(reply.body).toMatchObject({ received: 1, inserted: 0, duplicates: 1, rejected: 0 });
    const after = (await t.http().get(`/api/v1/alerts/${before.id}`)).body;
    expect(after.revision).toBe(before.revision);
    expect(after.updatedAt).toBe(before.updatedAt);
  });

  it('reads gzip bodies', async () => {
    const body = gzipSync(
      Buffer.from(toNdjson([injectionRow({ DeviceId: deviceId }), injectionRow({ DeviceId: deviceId })])),
    );

    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/x-ndjson')
      .set('content-encoding', 'gzip')
      .send(body);

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ received: 2, inserted: 2 });
  });

  it('rejects a record without a required field, names it, and stores the rest', async () => {
    const rows = [
      injectionRow({ DeviceId: deviceId }),
      injectionRow({ DeviceId: '' }),
      injectionRow({ DeviceId: deviceId, Timestamp: 'yesterday' }),
    ];

    const reply = await postJson('/api/v1/events/DeviceEvents', rows);

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ received: 3, inserted: 1, rejected: 2 });
    expect(reply.body.errors).toEqual([
      expect.objectContaining({ record: 1, field: 'DeviceId' }),
      expect.objectContaining({ record: 2, field: 'Timestamp' }),
    ]);
  });

  it('routes streaming-API records by category and counts other categories as skipped', async () => {
    const payload = JSON.parse(toStreamingRecords('DeviceEvents', [injectionRow({ DeviceId: deviceId })]));
    payload.records.push(
      ...JSON.parse(toStreamingRecords('DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId })])).records,
    );
    payload.records.push(
      ...JSON.parse(
        toStreamingRecords('DeviceLogonEvents', [{ DeviceId: deviceId, Timestamp: '2024-03-01T10:00:00Z' }]),
      ).records,
    );

    const reply = await postJson('/api/v1/events', payload);

    expect(reply.body).toMatchObject({ received: 3, inserted: 2, skipped: 1, rejected: 0 });
    const alerts = await t.http().get('/api/v1/alerts').query({ deviceId });
    expect(alerts.body.items).toHaveLength(1);
  });

  it('routes the rows of a union CSV export by ActionType', async () => {
    const rows = [
      injectionRow({ DeviceId: deviceId }),
      connectionRow({ DeviceId: deviceId }),
      { ...injectionRow({ DeviceId: deviceId }), ActionType: 'ProcessCreated' },
    ];

    const reply = await t.http().post('/api/v1/events').set('content-type', 'text/csv').send(toCsv(rows));

    expect(reply.body).toMatchObject({ received: 3, inserted: 2, skipped: 1, rejected: 0 });
    expect((await t.http().get('/api/v1/alerts').query({ deviceId })).body.items).toHaveLength(1);
  });

  it('answers 400 naming the place for an unparseable body, and keeps what came before it', async () => {
    const body = `${JSON.stringify(injectionRow({ DeviceId: deviceId }))}\n{"DeviceId": "x", oops}\n`;

    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/x-ndjson')
      .send(body);

    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('unparseable_body');
    expect(reply.body.message).toMatch(/line 2/);
    expect(reply.body.details).toMatchObject({ line: 2 });
  });

  it('answers 415 for a media type it does not read and for an unknown encoding', async () => {
    const plain = await t.http().post('/api/v1/events/DeviceEvents').set('content-type', 'text/plain').send('hello');
    const brotli = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/json')
      .set('content-encoding', 'br')
      .send('[]');

    expect(plain.status).toBe(415);
    expect(brotli.status).toBe(415);
  });

  it('answers 413 naming the limit for a body over the configured size', async () => {
    const rows = Array.from({ length: 200 }, () => injectionRow({ DeviceId: deviceId }));

    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/x-ndjson')
      .send(toNdjson(rows));

    expect(reply.status).toBe(413);
    expect(reply.body.message).toContain(String(64 * 1024));
  });
});

describe('hostile input never gets a 500', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const nasty: Array<[string, Record<string, unknown>, unknown]> = [
    ['NUL inside a string', { InitiatingProcessCommandLine: 'a\u0000b' }, 'InitiatingProcessCommandLine'],
    ['NUL inside a nested key', { AdditionalFields: { 'k\u0000': 1 } }, 'AdditionalFields.k\u0000'],
    ['a DeviceId longer than an index key may be', { DeviceId: 'd'.repeat(5000) }, 'DeviceId'],
    ['a FileName longer than an index key may be', { FileName: `${'x'.repeat(3000)}.exe` }, 'FileName'],
    ['an object as Timestamp', { Timestamp: { at: 1 } }, 'Timestamp'],
    ['an array as DeviceId', { DeviceId: ['a'] }, 'DeviceId'],
    ['a negative ProcessId', { ProcessId: -4 }, 'ProcessId'],
    ['a fractional ProcessId', { ProcessId: 4.5 }, 'ProcessId'],
    ['a ProcessId beyond 2^53', { ProcessId: '99999999999999999999' }, 'ProcessId'],
    ['a year 10000 Timestamp', { Timestamp: '10000-01-01T00:00:00Z' }, 'Timestamp'],
    ['a 31st of February', { Timestamp: '2024-02-31T00:00:00Z' }, 'Timestamp'],
    ['a ReportId that is text', { ReportId: 'abc' }, 'ReportId'],
    ['a ReportId beyond 2^53 as a JSON number', { ReportId: 9007199254740993 }, 'ReportId'],
    ['a negative ReportId', { ReportId: -5 }, 'ReportId'],
    ['a DeviceId in the namespace of Sysmon hosts', { DeviceId: 'host:ws1.corp.local' }, 'DeviceId'],
    ['an unpaired surrogate', { FileName: 'a\ud800b' }, 'FileName'],
    ['a year 0000 Timestamp', { Timestamp: '0000-01-01T00:00:00Z' }, 'Timestamp'],
    [
      'nesting 1000 levels deep',
      { AdditionalFields: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) },
      expect.stringMatching(/^AdditionalFields(\.0)+$/),
    ],
  ];

  it.each(nasty)('rejects %s, naming the field, and stores its neighbours', async (_name, override, field) => {
    const rows = [injectionRow({ DeviceId: 'hostile' }), { ...injectionRow({ DeviceId: 'hostile' }), ...override }];

    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/json')
      .send(JSON.stringify(rows));

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ received: 2, inserted: 1, rejected: 1 });
    expect(reply.body.errors[0]).toMatchObject({ record: 1, field });
  });

  it.each([
    ['a JSON array', 'application/json', (rows: string[]) => `[${rows.join(',')}]`],
    ['NDJSON', 'application/x-ndjson', (rows: string[]) => rows.join('\n')],
  ])('stores an integer beyond 2^53 outside the typed columns with every digit (%s)', async (_name, type, body) => {
    const row = JSON.stringify(injectionRow({ DeviceId: 'exact-digits', ReportId: 77 })).replace(
      /}$/,
      ',"InitiatingProcessFileSize":12345678901234567891,"Keywords":-9223372036854775808}',
    );

    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', type)
      .send(body([row]));
    const stored = await t.db.query<{ size: string; keywords: string }>(
      `SELECT raw->>'InitiatingProcessFileSize' AS size, raw->>'Keywords' AS keywords
       FROM device_events WHERE device_id = 'exact-digits'`,
    );

    expect(reply.body).toMatchObject({ rejected: 0 });
    expect(reply.body.inserted + reply.body.duplicates).toBe(1);
    expect(stored.rows).toEqual([{ size: '12345678901234567891', keywords: '-9223372036854775808' }]);
  });

  it('answers 4xx, not 500, for bodies that are not event batches at all', async () => {
    const bodies: Array<[string, string]> = [
      ['application/json', '"just a string"'],
      ['application/json', '42'],
      ['application/json', '[[[[[[[[[[]]]]]]]]]]'],
      ['application/json', '{"records": 5}'],
      ['application/json', '{"Results": [1, 2]}'],
      ['text/csv', 'a,a\n1,2\n'],
      ['text/csv', '"unterminated\n'],
      ['application/x-ndjson', '\u0000\u0001\u0002'],
    ];
    for (const [type, body] of bodies) {
      const reply = await t.http().post('/api/v1/events/DeviceEvents').set('content-type', type).send(body);
      expect(reply.status, `${type} ${JSON.stringify(body)}`).toBeLessThan(500);
    }
  });
});

describe('a body written in many small batches, several at a time', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ingestBatchSize: 10, ingestWriteConcurrency: 3 });
  });
  afterAll(async () => t.close());

  it('counts every event once and raises the alert whose halves sit in different batches', async () => {
    const injections = Array.from({ length: 120 }, (_, i) =>
      injectionRow({ DeviceId: 'batches', ProcessId: 7000 + i }),
    );
    const connections = Array.from({ length: 130 }, (_, i) =>
      connectionRow({ DeviceId: 'batches', InitiatingProcessId: 7000 + i }),
    );
    const body = (rows: unknown[]) => toNdjson(rows as Record<string, unknown>[]);
    await t
      .http()
      .post('/api/v1/events')
      .set('content-type', 'application/x-ndjson')
      .send(body(injections.slice(0, 100)));

    const reply = await t
      .http()
      .post('/api/v1/events')
      .set('content-type', 'application/x-ndjson')
      .send(body([...injections, ...connections]));

    expect(reply.body).toMatchObject({ received: 250, inserted: 150, duplicates: 100, rejected: 0 });
    const alerts = await t.http().get('/api/v1/alerts').query({ deviceId: 'batches', limit: 1000 });
    expect(alerts.body.items).toHaveLength(120);
  });
});

describe('per-record limit and media types', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ingestMaxRecordBytes: 2048 });
  });
  afterAll(async () => t.close());

  it('answers 413 naming the record and the limit, keeping the batches stored before it', async () => {
    const rows = [
      injectionRow({ DeviceId: 'limits' }),
      injectionRow({ DeviceId: 'limits', Padding: 'p'.repeat(4000) }),
    ];

    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/x-ndjson')
      .send(toNdjson(rows));

    expect(reply.status).toBe(413);
    expect(reply.body.message).toMatch(/record 1 \(line 2\) exceeds the 2048-byte record limit/);
    expect(reply.body.details).toMatchObject({ limitBytes: 2048, record: 1 });
  });

  it('lists only the media types the Defender routes read when refusing XML', async () => {
    const reply = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/xml')
      .send('<Events/>');

    expect(reply.status).toBe(415);
    const accepted = String(reply.body.message).split('send one of:')[1];
    expect(accepted).toMatch(/application\/json/);
    expect(accepted).not.toMatch(/xml/);
  });

  it('says so when a JSON body is sent as CSV', async () => {
    const reply = await t
      .http()
      .post('/api/v1/events')
      .set('content-type', 'text/csv')
      .send(JSON.stringify([injectionRow()]));

    expect(reply.status).toBe(400);
    expect(reply.body.message).toMatch(/looks like JSON/);
  });
});
