import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow, type MdeRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';
const T = (clock: string) => `2024-03-01T${clock}.0000000Z`;

/** rundll32 (6008) injects notepad (4242, created 09:59); the connection comes from whoever the test says. */
const injection = (deviceId: string, more: MdeRow = {}) =>
  injectionRow({
    DeviceId: deviceId,
    Timestamp: T('10:00:00'),
    InitiatingProcessId: 6008,
    InitiatingProcessFileName: 'rundll32.exe',
    InitiatingProcessFolderPath: 'c:\\windows\\system32\\rundll32.exe',
    ProcessId: 4242,
    FileName: 'notepad.exe',
    ProcessCreationTime: T('09:59:00'),
    ...more,
  });
const connection = (deviceId: string, more: MdeRow = {}) =>
  connectionRow({ DeviceId: deviceId, Timestamp: T('10:05:00'), InitiatingProcessId: 4242, ...more });

describe('graph mode (the default) against the reference rule', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const post = (table: string, rows: MdeRow[]) => t.postRows(table, rows);
  const alertsOn = async (deviceId: string, status = 'new') =>
    (await t.http().get('/api/v1/alerts').query({ deviceId, status })).body.items as Record<string, any>[];
  const settings = async () => (await t.http().get(RULE)).body.settings;
  const rerunWith = async (changes: Record<string, unknown>) => {
    await t
      .http()
      .put(RULE)
      .send({ ...(await settings()), ...changes })
      .expect(200);
    return (await t.http().post(`${RULE}/rerun`).expect(200)).body;
  };

  it('is the default mode, with the documented defaults', async () => {
    expect(await settings()).toMatchObject({
      mode: 'graph',
      clockSkewSeconds: 30,
      maxChainDepth: 4,
      followDescendants: true,
    });
  });

  it('a recycled pid: the old process was injected, a new one with the same pid connects → no alert', async () => {
    await post('DeviceEvents', [injection('gm-reuse', { ProcessCreationTime: T('09:00:00') })]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-reuse', {
        InitiatingProcessCreationTime: T('10:03:00'),
        InitiatingProcessFileName: 'notepad.exe',
      }),
    ]).expect(200);

    expect(await alertsOn('gm-reuse')).toEqual([]);
  });

  it('a two-hop chain: one alert for the connecting process, its path naming three processes', async () => {
    await post('DeviceEvents', [
      injection('gm-chain'),
      injection('gm-chain', {
        Timestamp: T('10:01:00'),
        InitiatingProcessId: 4242,
        InitiatingProcessFileName: 'notepad.exe',
        InitiatingProcessCreationTime: T('09:59:00'),
        InitiatingProcessFolderPath: 'c:\\windows\\system32\\notepad.exe',
        ProcessId: 5150,
        FileName: 'svchost.exe',
        ProcessCreationTime: T('08:00:00'),
      }),
    ]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-chain', { InitiatingProcessId: 5150, InitiatingProcessFileName: 'svchost.exe' }),
    ]).expect(200);

    const alerts = await alertsOn('gm-chain');
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({ processId: 5150, fileName: 'svchost.exe', mode: 'graph', viaDescendant: false });
    const processes = alert!.path.nodes.filter((n: any) => n.kind === 'process');
    expect(processes.map((n: any) => `${n.fileName} ${n.processId}`)).toEqual([
      'rundll32.exe 6008',
      'notepad.exe 4242',
      'svchost.exe 5150',
    ]);
    expect(alert!.path.edges.map((e: any) => e.kind)).toEqual(['injected', 'injected', 'connected']);
    for (const edge of alert!.path.edges) expect(edge.evidence).toHaveLength(1);
    expect(alert!.injectors.map((i: any) => i.fileName).sort()).toEqual(['notepad.exe', 'rundll32.exe']);
  });

  it('a child of the injected process connects: an alert marked as via a descendant', async () => {
    await post('DeviceEvents', [injection('gm-child')]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-child', {
        InitiatingProcessId: 7070,
        InitiatingProcessFileName: 'cmd.exe',
        InitiatingProcessCreationTime: T('10:02:00'),
        InitiatingProcessParentId: 4242,
      }),
    ]).expect(200);

    const [alert] = await alertsOn('gm-child');
    expect(alert).toMatchObject({ processId: 7070, fileName: 'cmd.exe', viaDescendant: true });
    expect(alert!.path.edges.map((e: any) => e.kind)).toEqual(['injected', 'spawned', 'connected']);
  });

  it('an injection that arrives after its connection still correlates, into exactly one alert', async () => {
    await post('DeviceNetworkEvents', [connection('gm-late', { InitiatingProcessFileName: 'notepad.exe' })]).expect(
      200,
    );
    expect(await alertsOn('gm-late')).toEqual([]);

    // Uploaded hours later: detection advances by arrival, so the event time of the injection is all that counts.
    await post('DeviceEvents', [injection('gm-late', { Timestamp: T('10:00:00') })]).expect(200);
    await post('DeviceEvents', [injection('gm-late', { Timestamp: T('10:00:30') })]).expect(200);

    const alerts = await alertsOn('gm-late');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ revision: 2 });
    expect(alerts[0]!.injectors[0]).toMatchObject({ firstSeen: T('10:00:00'), lastSeen: T('10:00:30') });
  });

  it('an 82-injection burst makes one alert with every injection as evidence', async () => {
    const burst = Array.from({ length: 82 }, (_, i) =>
      injection('gm-burst', { Timestamp: `2024-03-01T10:00:00.${String(i).padStart(7, '0')}Z` }),
    );
    await post('DeviceEvents', burst).expect(200);
    await post('DeviceNetworkEvents', [connection('gm-burst')]).expect(200);

    const alerts = await alertsOn('gm-burst');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.evidence.filter((e: any) => e.table === 'DeviceEvents')).toHaveLength(82);
  });

  it('order with tolerance: a connection stamped seconds before the injection counts, minutes before does not', async () => {
    await post('DeviceEvents', [injection('gm-skew'), injection('gm-early', { Timestamp: T('10:10:00') })]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-skew', { Timestamp: T('09:59:50') }),
      connection('gm-early', { Timestamp: T('10:05:00') }),
    ]).expect(200);

    expect(await alertsOn('gm-skew')).toHaveLength(1);
    expect(await alertsOn('gm-early')).toEqual([]);
  });

  it('a process created after the injection is never its target, even when it is the only one with that pid', async () => {
    await post('DeviceNetworkEvents', [
      connection('gm-after', {
        InitiatingProcessFileName: 'notepad.exe',
        InitiatingProcessCreationTime: T('10:03:00'),
      }),
    ]).expect(200);
    await post('DeviceEvents', [injection('gm-after', { Timestamp: T('09:10:00'), ProcessCreationTime: '' })]).expect(
      200,
    );

    expect(await alertsOn('gm-after')).toEqual([]);
  });

  it('a child created before the injection into its parent is not its descendant in time', async () => {
    await post('DeviceEvents', [injection('gm-old-child', { ProcessCreationTime: T('09:00:00') })]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-old-child', {
        InitiatingProcessId: 7071,
        InitiatingProcessFileName: 'cmd.exe',
        InitiatingProcessCreationTime: T('09:30:00'),
        InitiatingProcessParentId: 4242,
      }),
    ]).expect(200);

    expect(await alertsOn('gm-old-child')).toEqual([]);
  });

  it('a parent named by a recycled pid is told apart by its creation time and name', async () => {
    await post('DeviceEvents', [injection('gm-ppid', { ProcessCreationTime: T('09:00:00') })]).expect(200);
    const child = (pid: number, parentName: string, parentCreated: string) =>
      connection('gm-ppid', {
        InitiatingProcessId: pid,
        InitiatingProcessFileName: 'cmd.exe',
        InitiatingProcessCreationTime: T('10:20:00'),
        InitiatingProcessParentId: 4242,
        InitiatingProcessParentFileName: parentName,
        InitiatingProcessParentCreationTime: parentCreated,
        Timestamp: T('10:25:00'),
      });
    await post('DeviceNetworkEvents', [child(5000, 'svchost.exe', T('10:10:00'))]).expect(200);
    expect(await alertsOn('gm-ppid')).toEqual([]);

    await post('DeviceNetworkEvents', [child(5001, 'notepad.exe', T('09:00:00'))]).expect(200);
    expect(await alertsOn('gm-ppid')).toEqual([expect.objectContaining({ processId: 5001, viaDescendant: true })]);
  });

  it('a chain runs forwards in time; an earlier hop that the chain cannot precede stays a path of its own', async () => {
    const hop = (from: number, name: string, to: number, toName: string, at: string) =>
      injection('gm-order', {
        Timestamp: T(at),
        InitiatingProcessId: from,
        InitiatingProcessFileName: name,
        InitiatingProcessCreationTime: T('08:00:00'),
        ProcessId: to,
        FileName: toName,
        ProcessCreationTime: T('08:00:00'),
      });
    await post('DeviceEvents', [
      hop(200, 'b.exe', 300, 'c.exe', '10:00:00'),
      hop(100, 'a.exe', 200, 'b.exe', '11:00:00'),
      hop(200, 'b.exe', 300, 'c.exe', '11:30:00'),
    ]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-order', {
        Timestamp: T('10:05:00'),
        InitiatingProcessId: 300,
        InitiatingProcessFileName: 'c.exe',
      }),
      connection('gm-order', {
        Timestamp: T('11:35:00'),
        InitiatingProcessId: 300,
        InitiatingProcessFileName: 'c.exe',
      }),
    ]).expect(200);

    const [alert] = await alertsOn('gm-order');
    const describe = (p: any) => p.edges.map((e: any) => `${e.kind} ${e.firstSeen.slice(11, 19)}`).join(', ');
    expect(alert!.paths.map(describe).sort()).toEqual([
      'injected 10:00:00, connected 10:05:00',
      'injected 11:00:00, injected 11:30:00, connected 11:35:00',
    ]);
  });

  it('a process that injects itself and connects alerts in graph mode too', async () => {
    await post('DeviceEvents', [
      injection('gm-self', {
        InitiatingProcessId: 4242,
        InitiatingProcessFileName: 'notepad.exe',
        InitiatingProcessCreationTime: T('09:59:00'),
      }),
    ]).expect(200);
    await post('DeviceNetworkEvents', [connection('gm-self')]).expect(200);

    const [alert] = await alertsOn('gm-self');
    expect(alert!.path.nodes.map((n: any) => n.fileName ?? n.kind)).toEqual([
      'notepad.exe',
      'notepad.exe',
      'adwsEndpoint',
    ]);
  });

  it('bounds the paths of processes that all inject one another, and says so', async () => {
    const pids = Array.from({ length: 9 }, (_, i) => 1000 + i);
    const rows = pids.flatMap((from) =>
      pids
        .filter((to) => to !== from)
        .map((to) =>
          injection('gm-mesh', {
            InitiatingProcessId: from,
            InitiatingProcessFileName: `p${from}.exe`,
            InitiatingProcessCreationTime: T('08:00:00'),
            ProcessId: to,
            FileName: `p${to}.exe`,
            ProcessCreationTime: T('08:00:00'),
          }),
        ),
    );
    await post('DeviceEvents', rows).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-mesh', { InitiatingProcessId: 1000, InitiatingProcessFileName: 'p1000.exe' }),
    ]).expect(200);

    const [alert] = await alertsOn('gm-mesh');
    expect(alert!.paths).toHaveLength(50);
    expect(alert!.evidenceGaps.join(' ')).toMatch(/paths lead here; the first 50 are listed/);
  });

  it('evidence that refines the process identity later updates the same alert instead of replacing it', async () => {
    await post('DeviceEvents', [injection('gm-refined')]).expect(200);
    await post('DeviceNetworkEvents', [
      connection('gm-refined', {
        InitiatingProcessFileName: 'notepad.exe',
        InitiatingProcessCreationTime: T('09:59:00'),
      }),
    ]).expect(200);
    const [first] = await alertsOn('gm-refined');

    // The same notepad lifetime, now with Defender's unique id: the node key changes, the detection does not.
    await post('DeviceEvents', [injection('gm-refined', { Timestamp: T('10:01:00'), ProcessUniqueId: '777' })]).expect(
      200,
    );

    const alerts = await alertsOn('gm-refined');
    expect(alerts.map((a) => [a.id, a.revision])).toEqual([[first!.id, 2]]);
    expect(await alertsOn('gm-refined', 'retracted')).toEqual([]);
  });

  it('says what its evidence lacks and which exclusions it considered', async () => {
    const [alert] = await alertsOn('gm-burst');

    expect(alert!.evidenceGaps).toEqual([
      'the first injector, rundll32.exe (6008): its process creation was never seen',
    ]);
    expect(alert!.exclusionsConsidered.map((e: any) => e.description)).toEqual(
      (await settings()).exclusions.map((e: any) => e.description),
    );
  });

  it('serves the stored events behind an alert', async () => {
    const [alert] = await alertsOn('gm-chain');
    const reply = await t.http().get(`/api/v1/alerts/${alert!.id}/evidence`);

    expect(reply.status).toBe(200);
    expect(reply.body.items.map((i: any) => i.eventKey)).toEqual(alert!.evidence.map((e: any) => e.eventKey));
    expect(reply.body.items[0].raw).toMatchObject({ DeviceId: 'gm-chain' });
    expect((await t.http().get('/api/v1/alerts/00000000-0000-5000-8000-000000000000/evidence')).status).toBe(404);
  });

  it('re-running twice changes nothing', async () => {
    await t.http().post(`${RULE}/rerun`).expect(200);
    const second = (await t.http().post(`${RULE}/rerun`).expect(200)).body;

    expect(second).toMatchObject({ created: 0, updated: 0, retracted: 0 });
  });

  it('reference mode keeps the public rule: the recycled pid and the early connection alert there', async () => {
    const outcome = await rerunWith({ mode: 'reference' });
    try {
      expect(outcome.created).toBeGreaterThan(0);
      expect(await alertsOn('gm-reuse')).toEqual([expect.objectContaining({ processId: 4242, mode: 'reference' })]);
      expect(await alertsOn('gm-early')).toHaveLength(1);
      // No chains: the last injector alone, on an injector → target → endpoint path.
      const [chain] = await alertsOn('gm-chain');
      expect(chain!.injectors.map((i: any) => i.fileName)).toEqual(['notepad.exe']);
      expect(chain!.path.nodes).toHaveLength(3);
      expect(await alertsOn('gm-child')).toEqual([]);
    } finally {
      await rerunWith({ mode: 'graph' });
    }
  });

  it('descendants can be switched off; the alert graph still draws an alert derived with them', async () => {
    const [alert] = await alertsOn('gm-child');
    await t
      .http()
      .put(RULE)
      .send({ ...(await settings()), followDescendants: false })
      .expect(200);
    const graph = await t.http().get(`/api/v1/alerts/${alert!.id}/graph`);
    expect(graph.status).toBe(200);
    expect(graph.body.edges.map((e: any) => e.attributes.kind).sort()).toEqual(['connected', 'injected', 'spawned']);

    await rerunWith({ followDescendants: false });
    expect(await alertsOn('gm-child')).toEqual([]);

    await rerunWith({ followDescendants: true });
    expect(await alertsOn('gm-child')).toHaveLength(1);
  });

  it('an exclusion added and re-run retracts the alert it covers (by target name and device), never deletes it', async () => {
    const [before] = await alertsOn('gm-burst');
    const exclusion = {
      description: 'lab notepad on gm-burst',
      injectorFileName: null,
      injectorFolderPath: null,
      folderPathMatch: 'equals',
      targetFileName: 'NOTEPAD.EXE',
      deviceId: 'gm-burst',
    };

    await rerunWith({ exclusions: [...(await settings()).exclusions, exclusion] });

    expect(await alertsOn('gm-burst')).toEqual([]);
    const retracted = await alertsOn('gm-burst', 'retracted');
    expect(retracted.map((a) => a.id)).toContain(before!.id);
    expect(await alertsOn('gm-skew')).toHaveLength(1);
  });

  it('names the exclusion that shortened a chain, with the injections it held back', async () => {
    const exclusion = {
      description: 'rundll32 on gm-chain',
      injectorFileName: 'rundll32.exe',
      injectorFolderPath: null,
      folderPathMatch: 'equals',
      targetFileName: null,
      deviceId: 'GM-CHAIN',
    };
    await rerunWith({ exclusions: [...(await settings()).exclusions, exclusion] });

    const [alert] = await alertsOn('gm-chain');
    expect(alert!.path.nodes.filter((n: any) => n.kind === 'process').map((n: any) => n.fileName)).toEqual([
      'notepad.exe',
      'svchost.exe',
    ]);
    expect(alert!.exclusionsConsidered).toContainEqual({ description: 'rundll32 on gm-chain', excludedEvents: 1 });
  });
});
