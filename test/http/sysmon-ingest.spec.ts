import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow } from '../support/mde-rows.js';
import {
  networkConnect,
  processCreate,
  remoteThread,
  toEcs,
  toNdjsonLines,
  toXml,
  type SysmonProcess,
} from '../support/sysmon-events.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const SYSMON = '/api/v1/events/sysmon';

const EXPLORER: SysmonProcess = {
  guid: '{71b87c12-0001-5f84-0100-000000000500}',
  pid: 4000,
  image: 'C:\\Windows\\explorer.exe',
};
const POWERSHELL: SysmonProcess = {
  guid: '{71B87C12-0002-5F84-0200-000000000500}',
  pid: 6008,
  image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
};
const NOTEPAD: SysmonProcess = {
  guid: '{71b87c12-0003-5f84-0300-000000000500}',
  pid: 2576,
  image: 'C:\\Windows\\System32\\notepad.exe',
};
const UNKNOWN_NOTEPAD = { ...NOTEPAD, image: '<unknown process>' };

/** powershell creates notepad, injects it (target logged as unknown), notepad queries ADWS: one alert. */
function attackOn(hostname: string) {
  return [
    processCreate(hostname, '2024-03-01 10:00:00.100', NOTEPAD, EXPLORER),
    remoteThread(hostname, '2024-03-01 10:00:00.093', POWERSHELL, UNKNOWN_NOTEPAD),
    networkConnect(hostname, '2024-03-01 10:00:05.500', NOTEPAD),
  ];
}

describe('POST /api/v1/events/sysmon', () => {
  let t: TestApp;
  const ws1 = attackOn('WS1.corp.local');

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const post = (contentType: string, body: string | Buffer, encoding?: string) => {
    const request = t.http().post(SYSMON).set('content-type', contentType);
    return (encoding ? request.set('content-encoding', encoding) : request).send(body);
  };
  const alertsOn = async (deviceId: string) =>
    (await t.http().get('/api/v1/alerts').query({ deviceId })).body.items as Record<string, any>[];

  it('takes flat shipper JSON and raises one alert naming the resolved target on the host device', async () => {
    const reply = await post('application/x-ndjson', toNdjsonLines(ws1));
    const alerts = await alertsOn('host:ws1.corp.local');

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ received: 3, inserted: 3, duplicates: 0, skipped: 0, rejected: 0 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      deviceName: 'WS1.corp.local',
      hostName: 'WS1',
      processId: 2576,
      fileName: 'notepad.exe',
      injectionMethods: ['CreateRemoteThreadApiCall'],
      timestamp: '2024-03-01T10:00:05.5000000Z',
    });
    expect(alerts[0]!.injectors).toEqual([
      expect.objectContaining({ processId: 6008, fileName: 'powershell.exe', folderPath: POWERSHELL.image }),
    ]);
    expect(alerts[0]!.evidence.map((e: { table: string }) => e.table)).toEqual(['SysmonEvents', 'SysmonEvents']);
  });

  it('stores the same events sent again as Windows event XML and as ECS once (record ids match)', async () => {
    const events = ws1;
    const flat = await post('application/x-ndjson', toNdjsonLines(events));
    const xml = await post('application/xml', `<Events>\r\n${events.map(toXml).join('\r\n')}\r\n</Events>`);
    const ecs = await post('application/json', JSON.stringify(events.map(toEcs)));

    for (const reply of [flat, xml, ecs]) {
      expect(reply.body).toMatchObject({ received: 3, inserted: 0, duplicates: 3, rejected: 0 });
    }
    expect(await alertsOn('host:ws1.corp.local')).toHaveLength(1);
  });

  it('reads XML without a root element, gzipped, and ECS documents, each raising its alert', async () => {
    const xml = attackOn('ws2.corp.local').map(toXml).join('\n');
    const xmlReply = await post('text/xml', gzipSync(xml), 'gzip');
    const ecs = attackOn('ws3.corp.local').map(toEcs);
    const ecsReply = await post('application/x-ndjson', ecs.map((d) => JSON.stringify(d)).join('\n'));

    expect(xmlReply.body).toMatchObject({ received: 3, inserted: 3, rejected: 0 });
    expect(ecsReply.body).toMatchObject({ received: 3, inserted: 3, rejected: 0 });
    expect((await alertsOn('host:ws2.corp.local'))[0]).toMatchObject({ fileName: 'notepad.exe', processId: 2576 });
    expect((await alertsOn('host:ws3.corp.local'))[0]).toMatchObject({ fileName: 'notepad.exe', processId: 2576 });
  });

  it('keeps the raw record: the XML element text, and a JSON line with every digit of Keywords', async () => {
    const [create] = attackOn('ws4.corp.local');
    await post('application/xml', toXml(create!));
    await post('application/x-ndjson', toNdjsonLines([{ ...create!, RecordNumber: 1 }]));

    const stored = await t.db.query<{ record_id: string; raw: string }>(
      `SELECT record_id, raw::text AS raw FROM sysmon_events WHERE device_id = 'host:ws4.corp.local' ORDER BY record_id`,
    );
    const [fromJson, fromXml] = stored.rows;
    expect(JSON.parse(fromXml!.raw)).toEqual({ xml: toXml(create!) });
    expect(fromJson!.raw).toContain('"Keywords": -9223372036854775808');
  });

  it('rejects a bad record naming it and the field, stores its neighbours, and skips other channels and ids', async () => {
    const [create, thread, connect] = attackOn('ws5.corp.local');
    const records = [
      create,
      { ...thread, Hostname: undefined },
      { ...connect, DestinationPort: 'http' },
      { ...create, EventID: 7, RecordNumber: 1 },
      { EventID: 5156, Channel: 'Security', Hostname: 'ws5.corp.local', RecordNumber: 2 },
    ];

    const reply = await post('application/json', JSON.stringify(records));

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ received: 5, inserted: 1, skipped: 2, rejected: 2 });
    expect(reply.body.errors).toEqual([
      { record: 1, field: 'Hostname', message: expect.stringMatching(/Hostname/) },
      { record: 2, field: 'DestinationPort', message: expect.stringMatching(/DestinationPort/) },
    ]);
  });

  it('answers 400 naming the line for broken XML, and keeps what came before it', async () => {
    const [create, thread] = attackOn('ws6.corp.local');
    const body = `${toXml(create!)}\n${toXml(thread!).replace('</System>', '</Sys>')}`;

    const reply = await post('application/xml', body);
    const stored = await t.db.query(`SELECT 1 FROM sysmon_events WHERE device_id = 'host:ws6.corp.local'`);

    expect(reply.status).toBe(400);
    expect(reply.body.message).toMatch(/line 2/);
    expect(reply.body.details.acceptedBeforeError.inserted).toBe(stored.rows.length);
  });

  it('joins by GUID a thread and a connection when one of them carries no pid', async () => {
    const thread = remoteThread('nopid.corp.local', '2024-03-01 10:00:00.100', POWERSHELL, NOTEPAD);
    const connect = networkConnect('nopid.corp.local', '2024-03-01 10:00:05.000', NOTEPAD);
    const { TargetProcessId: _pid, ...threadWithoutPid } = thread;

    await post('application/x-ndjson', toNdjsonLines([threadWithoutPid, connect]));

    expect(await alertsOn('host:nopid.corp.local')).toEqual([
      expect.objectContaining({ processId: NOTEPAD.pid, fileName: 'notepad.exe' }),
    ]);
  });

  it('puts forwarded ECS events on the machine that logged them (winlog.computer_name), not the collector', async () => {
    const [create, thread, connect] = attackOn('ws-a.corp.local');
    const forwarded = [create, thread].map((e) => ({ ...toEcs(e!), host: { name: 'wec01' } }));
    const other = { ...toEcs({ ...connect!, Hostname: 'ws-b.corp.local' }), host: { name: 'wec01' } };

    await post('application/json', JSON.stringify([...forwarded, other]));

    expect(await alertsOn('host:wec01')).toEqual([]);
    expect(await alertsOn('host:ws-a.corp.local')).toEqual([]);
    const stored = await t.db.query<{ device_id: string }>(
      `SELECT DISTINCT device_id FROM sysmon_events WHERE device_id IN ('host:ws-a.corp.local', 'host:ws-b.corp.local', 'host:wec01') ORDER BY 1`,
    );
    expect(stored.rows.map((r) => r.device_id)).toEqual(['host:ws-a.corp.local', 'host:ws-b.corp.local']);
  });

  it('finds a host’s alerts and graph whatever the case of the host id asked for', async () => {
    const alerts = await alertsOn('HOST:WS1.Corp.Local.');
    const graph = await t.http().get('/api/v1/devices/HOST:WS1.Corp.Local/graph');

    expect(alerts).toHaveLength(1);
    expect(graph.status).toBe(200);
  });

  it('refuses CSV on the Sysmon route and XML on the Defender routes with 415', async () => {
    const csv = await post('text/csv', 'EventID,Hostname\n1,ws\n');
    const xml = await t
      .http()
      .post('/api/v1/events/DeviceEvents')
      .set('content-type', 'application/xml')
      .send(toXml(attackOn('ws7')[0]!));

    expect(csv.status).toBe(415);
    expect(xml.status).toBe(415);
  });
});

describe('Sysmon and Defender rows of one host meet in one graph', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const sysmon = (events: Record<string, unknown>[]) =>
    t.http().post(SYSMON).set('content-type', 'application/x-ndjson').send(toNdjsonLines(events)).expect(200);
  const defender = (table: string, rows: unknown[]) => t.postRows(table, rows);
  const alertsOn = async (deviceId: string, status = 'new') =>
    (await t.http().get('/api/v1/alerts').query({ deviceId, status })).body.items as Record<string, any>[];

  const defenderConnection = (deviceId: string, deviceName: string) =>
    connectionRow({
      DeviceId: deviceId,
      DeviceName: deviceName,
      Timestamp: '2024-03-01T10:00:07.0000000Z',
      InitiatingProcessId: NOTEPAD.pid,
      InitiatingProcessFileName: 'notepad.exe',
    });

  it('a Sysmon injection and a Defender connection, Sysmon first: one alert on the Defender device', async () => {
    const [create, thread] = attackOn('WS10.corp.local');
    await sysmon([create!, thread!]);
    await defender('DeviceNetworkEvents', [defenderConnection('dev-ws10', 'ws10.corp.local')]).expect(200);

    const alerts = await alertsOn('dev-ws10');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ processId: 2576, fileName: 'notepad.exe', deviceName: 'ws10.corp.local' });
    expect(alerts[0]!.evidence.map((e: { table: string }) => e.table).sort()).toEqual([
      'DeviceNetworkEvents',
      'SysmonEvents',
    ]);
    expect(await alertsOn('host:ws10.corp.local')).toEqual([]);
  });

  it('the same with the Defender connection first', async () => {
    await defender('DeviceNetworkEvents', [defenderConnection('dev-ws11', 'ws11.corp.local')]).expect(200);
    const [create, thread] = attackOn('WS11.corp.local.');
    await sysmon([create!, thread!]);

    expect(await alertsOn('dev-ws11')).toEqual([expect.objectContaining({ processId: 2576, fileName: 'notepad.exe' })]);
  });

  it('a Defender injection into a process that connects in Sysmon', async () => {
    await defender('DeviceEvents', [
      injectionRow({ DeviceId: 'dev-ws12', DeviceName: 'ws12.corp.local', ProcessId: NOTEPAD.pid }),
    ]).expect(200);
    await sysmon([networkConnect('ws12.corp.local', '2024-03-01 10:05:00.000', NOTEPAD)]);

    const alerts = await alertsOn('dev-ws12');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.injectors[0]).toMatchObject({ fileName: 'powershell.exe', processId: 6008 });
  });

  it('moves a host’s own alert to the Defender device that later reports its name, retracting the first', async () => {
    await sysmon(attackOn('ws13.corp.local'));
    const [alone] = await alertsOn('host:ws13.corp.local');
    expect(alone).toBeDefined();

    await defender('DeviceEvents', [
      injectionRow({ DeviceId: 'dev-ws13', DeviceName: 'WS13.corp.local', ActionType: 'ProcessCreated' }),
    ]).expect(200);

    expect(await alertsOn('host:ws13.corp.local')).toEqual([]);
    expect((await alertsOn('host:ws13.corp.local', 'retracted')).map((a) => a.id)).toEqual([alone!.id]);
    expect(await alertsOn('dev-ws13')).toEqual([expect.objectContaining({ processId: 2576 })]);
  });

  it('serves the merged device graph with both sources and the resolved name', async () => {
    const reply = await t.http().get('/api/v1/devices/dev-ws10/graph').query({ format: 'json' });

    expect(reply.status).toBe(200);
    const notepad = reply.body.nodes.find((n: any) => n.attributes.processId === NOTEPAD.pid);
    expect(notepad.attributes).toMatchObject({ fileName: 'notepad.exe', processGuid: NOTEPAD.guid.slice(1, -1) });
    const kinds = reply.body.edges.map((e: any) => e.attributes.kind).sort();
    expect(kinds).toEqual(['connected', 'injected', 'spawned']);
  });
});
