import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readGexf, readGraphml } from '../support/graph-documents.js';
import { connectionRow, injectionRow } from '../support/mde-rows.js';
import {
  networkConnect,
  remoteThread,
  toNdjsonLines,
  type FlatEvent,
  type SysmonProcess,
} from '../support/sysmon-events.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Defender device gb-1, in time order:
 *
 *   10:00  powershell (6008) ──injected──▶ notepad (4242) ──connected 10:05──▶ 10.0.0.10:9389   (the alert)
 *   12:00  rundll32 (700)    ──injected──▶ calc (900)
 *   14:00  powershell (6008) ──injected──▶ mspaint (1200)
 */
const DEVICE = 'gb-1';
const T = (clock: string) => `2024-03-01T${clock}.0000000Z`;

/**
 * Sysmon host gb-host.corp.local (device host:gb-host.corp.local):
 *
 *   10:00 powershell (5000) ──injected──▶ notepad (5001) ──connected 10:00:05──▶ 10.0.0.10:9389   (the alert)
 *   11:00 and 11:30 procexp (5002) ──accessed──▶ powershell
 *   12:00 taskmgr (5003) ──accessed──▶ procexp
 */
const HOST = 'gb-host.corp.local';
const HOST_DEVICE = `host:${HOST}`;
const proc = (n: number, image: string): SysmonProcess => ({
  guid: `{71b87c12-0001-5f84-0100-00000000${n}}`,
  pid: n,
  image: `C:\\Windows\\System32\\${image}`,
});
const POWERSHELL = proc(5000, 'powershell.exe');
const NOTEPAD = proc(5001, 'notepad.exe');
const PROCEXP = proc(5002, 'procexp.exe');
const TASKMGR = proc(5003, 'taskmgr.exe');

function processAccess(utcTime: string, source: SysmonProcess, target: SysmonProcess): FlatEvent {
  const { NewThreadId: _thread, StartAddress: _start, ...event } = remoteThread(HOST, utcTime, source, target);
  return { ...event, EventID: 10, GrantedAccess: '0x1410' };
}

type GraphBody = { nodes: { key: string; attributes: Record<string, any> }[]; edges: any[]; attributes: any };
const names = (body: GraphBody) =>
  body.nodes.map((n) => (n.attributes.kind === 'process' ? n.attributes.fileName : n.attributes.kind)).sort();

describe('bounded graph queries', () => {
  let t: TestApp;
  let defenderAlert: string;
  let sysmonAlert: string;
  const get = (path: string, query: Record<string, unknown> = {}) => t.http().get(path).query(query);
  const deviceGraph = (query: Record<string, unknown> = {}) => get(`/api/v1/devices/${DEVICE}/graph`, query);
  const hostGraph = (query: Record<string, unknown> = {}) => get(`/api/v1/devices/${HOST_DEVICE}/graph`, query);

  beforeAll(async () => {
    t = await createTestApp();
    const post = (path: string, type: string, body: string) =>
      t.http().post(path).set('content-type', type).send(body).expect(200);
    const injection = (clock: string, more: Record<string, unknown>) =>
      injectionRow({ DeviceId: DEVICE, Timestamp: T(clock), ProcessCreationTime: T('09:00:00'), ...more });
    await post(
      '/api/v1/events/DeviceEvents',
      'application/json',
      JSON.stringify([
        injection('10:00:00', {}),
        injection('12:00:00', {
          InitiatingProcessId: 700,
          InitiatingProcessFileName: 'rundll32.exe',
          ProcessId: 900,
          FileName: 'calc.exe',
        }),
        injection('14:00:00', { ProcessId: 1200, FileName: 'mspaint.exe' }),
      ]),
    );
    const connection = connectionRow({
      DeviceId: DEVICE,
      Timestamp: T('10:05:00'),
      InitiatingProcessCreationTime: T('09:00:00'),
    });
    await post('/api/v1/events/DeviceNetworkEvents', 'application/json', JSON.stringify([connection]));
    await post(
      '/api/v1/events/sysmon',
      'application/x-ndjson',
      toNdjsonLines([
        remoteThread(HOST, '2024-03-01 10:00:00.000', POWERSHELL, NOTEPAD),
        networkConnect(HOST, '2024-03-01 10:00:05.000', NOTEPAD),
        processAccess('2024-03-01 11:00:00.000', PROCEXP, POWERSHELL),
        processAccess('2024-03-01 11:30:00.000', PROCEXP, POWERSHELL),
        processAccess('2024-03-01 12:00:00.000', TASKMGR, PROCEXP),
      ]),
    );
    const alertOn = async (deviceId: string) => (await get('/api/v1/alerts', { deviceId })).body.items[0].id as string;
    defenderAlert = await alertOn(DEVICE);
    sysmonAlert = await alertOn(HOST_DEVICE);
  });
  afterAll(async () => t.close());

  describe('from / to', () => {
    it('draws only the events within the window, on the device graph', async () => {
      const all = (await deviceGraph()).body;
      const late = (await deviceGraph({ from: '2024-03-01T11:00:00Z' })).body;
      const early = (await deviceGraph({ to: '2024-03-01T10:30:00+00:00' })).body;
      const middle = (await deviceGraph({ from: '2024-03-01T10:01:00Z', to: '2024-03-01T11:00:00Z' })).body;

      expect(names(all)).toEqual([
        'adwsEndpoint',
        'calc.exe',
        'mspaint.exe',
        'notepad.exe',
        'powershell.exe',
        'rundll32.exe',
      ]);
      expect(names(late)).toEqual(['calc.exe', 'mspaint.exe', 'powershell.exe', 'rundll32.exe']);
      expect(names(early)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
      expect(names(middle)).toEqual(['adwsEndpoint', 'notepad.exe']);
      expect(middle.edges.map((e: any) => e.attributes.kind)).toEqual(['connected']);
      expect(late.attributes).toMatchObject({
        truncated: false,
        from: '2024-03-01T11:00:00.0000000Z',
        counts: { reachableNodes: 4, shownNodes: 4, reachableEvents: 2, shownEvents: 2 },
      });
    });

    it('keeps only the occurrences within the window on each edge, counts and times recomputed', async () => {
      const procexpAccesses = (body: GraphBody) => {
        const procexp = body.nodes.find((n) => n.attributes.fileName === 'procexp.exe')!.key;
        return body.edges.find((e: any) => e.attributes.kind === 'accessed' && e.source === procexp);
      };

      const whole = procexpAccesses((await hostGraph()).body);
      const windowed = procexpAccesses((await hostGraph({ from: '2024-03-01T11:15:00Z' })).body);

      expect(whole.attributes).toMatchObject({ count: 2, firstSeen: '2024-03-01T11:00:00.0000000Z' });
      expect(windowed.attributes).toMatchObject({
        count: 1,
        firstSeen: '2024-03-01T11:30:00.0000000Z',
        lastSeen: '2024-03-01T11:30:00.0000000Z',
      });
      expect(windowed.attributes.occurrences).toHaveLength(1);
    });

    it('answers an empty graph when nothing falls in the window, 404 when the device has no events', async () => {
      const empty = await deviceGraph({ from: '2030-01-01T00:00:00Z' });

      expect(empty.status).toBe(200);
      expect(empty.body.nodes).toEqual([]);
      expect(empty.body.attributes.counts).toEqual({
        reachableNodes: 0,
        shownNodes: 0,
        reachableEvents: 0,
        shownEvents: 0,
      });
      expect((await get('/api/v1/devices/nobody/graph', { from: '2024-03-01T00:00:00Z' })).status).toBe(404);
    });

    it('draws a process neighbourhood within the window, 404 for a process only outside it', async () => {
      const keyOf = (body: GraphBody, fileName: string) =>
        body.nodes.find((n) => n.attributes.fileName === fileName)!.key;
      const host = (await hostGraph()).body;
      const path = (key: string) => `/api/v1/devices/${HOST_DEVICE}/processes/${encodeURIComponent(key)}/graph`;

      const before = await get(path(keyOf(host, 'powershell.exe')), { to: '2024-03-01T10:30:00Z' });
      const after = await get(path(keyOf(host, 'powershell.exe')), { from: '2024-03-01T10:30:00Z' });
      const gone = await get(path(keyOf(host, 'taskmgr.exe')), { to: '2024-03-01T10:30:00Z' });

      expect(names(before.body)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
      expect(names(after.body)).toEqual(['powershell.exe', 'procexp.exe', 'taskmgr.exe']);
      expect(after.body.attributes).toMatchObject({ processKey: keyOf(host, 'powershell.exe'), depth: 2 });
      expect(gone.status).toBe(404);
      expect(gone.body.message).toContain('within from/to');
    });

    it.each([
      ['device', () => `/api/v1/devices/${DEVICE}/graph`],
      ['process', () => `/api/v1/devices/${DEVICE}/processes/x/graph`],
    ])('refuses a bad window on the %s graph with 400 naming the field', async (_name, path) => {
      const later = await get(path(), { from: '2024-03-01T12:00:00Z', to: '2024-03-01T11:00:00Z' });
      const notIso = await get(path(), { from: 'yesterday' });
      const dateOnly = await get(path(), { to: '2024-03-01' });
      const badMonth = await get(path(), { to: '2024-13-01T00:00:00Z' });

      expect(later.status).toBe(400);
      expect(later.body).toMatchObject({ message: 'from is later than to', details: { field: 'from' } });
      expect(notIso.status).toBe(400);
      expect(notIso.body.message).toMatch(/^from /);
      expect(dateOnly.status).toBe(400);
      expect(dateOnly.body.details).toMatchObject({ field: 'to' });
      expect(badMonth.status).toBe(400);
      expect(badMonth.body.message).toMatch(/^to /);
    });
  });

  describe('depth on the device graph', () => {
    it('keeps the nodes within depth hops of the injections and ADWS connections', async () => {
      const at = async (depth?: number) => names((await hostGraph(depth === undefined ? {} : { depth })).body);

      expect(await at(0)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
      expect(await at(1)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe', 'procexp.exe']);
      expect(await at(2)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe', 'procexp.exe', 'taskmgr.exe']);
      expect(await at()).toEqual(await at(2));
      expect((await hostGraph({ depth: 0 })).body.attributes).toMatchObject({
        truncated: false,
        depth: 0,
        counts: { reachableNodes: 3, shownNodes: 3, reachableEvents: 2, shownEvents: 2 },
      });
      expect((await hostGraph({ depth: 7 })).status).toBe(400);
    });
  });

  describe('limit on the device graph', () => {
    it('says truncated when the event limit cut events, with the counts, in every export format', async () => {
      const json = (await deviceGraph({ limit: 1 })).body;
      const cytoscape = (await deviceGraph({ limit: 1, format: 'cytoscape' })).body;
      const gexf = readGexf((await deviceGraph({ limit: 1, format: 'gexf' })).text);
      const graphml = readGraphml((await deviceGraph({ limit: 1, format: 'graphml' })).text);
      const counts = { reachableNodes: 4, shownNodes: 4, reachableEvents: 2, shownEvents: 2 };

      expect(names(json)).toEqual(['adwsEndpoint', 'mspaint.exe', 'notepad.exe', 'powershell.exe']);
      expect(json.attributes).toMatchObject({ deviceId: DEVICE, truncated: true, counts });
      expect(cytoscape.data).toMatchObject({ deviceId: DEVICE, truncated: true, counts });
      expect(gexf.meta.keywords).toBe('truncated');
      expect(gexf.meta.description).toBe(
        `process graph of device ${DEVICE} ` +
          '(truncated=true reachableNodes=4 shownNodes=4 reachableEvents=2 shownEvents=2)',
      );
      expect(graphml.graph.values).toEqual({
        deviceId: DEVICE,
        truncated: 'true',
        'counts.reachableNodes': '4',
        'counts.shownNodes': '4',
        'counts.reachableEvents': '2',
        'counts.shownEvents': '2',
      });
      expect(graphml.keys.get('g_truncated')).toEqual({ for: 'graph', name: 'truncated', type: 'boolean' });
      expect(graphml.keys.get('g_counts.shownNodes')).toEqual({
        for: 'graph',
        name: 'counts.shownNodes',
        type: 'long',
      });
    });

    it('reads the newest limit events within the window: truncated only when the window holds more', async () => {
      const cut = (await deviceGraph({ limit: 1, from: '2024-03-01T11:00:00Z' })).body;
      const whole = (await deviceGraph({ limit: 2, from: '2024-03-01T11:00:00Z' })).body;
      const late = (await deviceGraph({ limit: 1, from: '2024-03-01T13:00:00Z' })).body;

      // Injections at 12:00 and 14:00 fall after 11:00: limit 1 shows the 14:00 one and says it cut the other.
      expect(cut.attributes.truncated).toBe(true);
      expect(names(cut)).toEqual(['mspaint.exe', 'powershell.exe']);
      expect(whole.attributes.truncated).toBe(false);
      expect(names(whole)).toEqual(['calc.exe', 'mspaint.exe', 'powershell.exe', 'rundll32.exe']);
      // Events older than the window are not read at all, so one event in the window is not a cut.
      expect(late.attributes.truncated).toBe(false);
    });
  });

  describe('depth and limit on the alert graph', () => {
    it("depth 0 (default) draws the alert's own paths; depth n adds n hops of the device graph", async () => {
      const at = async (depth?: number) =>
        (await get(`/api/v1/alerts/${sysmonAlert}/graph`, depth === undefined ? {} : { depth })).body as GraphBody;

      expect(names(await at())).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
      expect(names(await at(1))).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe', 'procexp.exe']);
      expect(names(await at(2))).toEqual([
        'adwsEndpoint',
        'notepad.exe',
        'powershell.exe',
        'procexp.exe',
        'taskmgr.exe',
      ]);
      expect((await at(1)).attributes).toMatchObject({ alertId: sysmonAlert, depth: 1, truncated: false });
    });

    it('finds the neighbours of a Defender alert under its lifetime identities (graph mode)', async () => {
      const paths = (await get(`/api/v1/alerts/${defenderAlert}/graph`)).body as GraphBody;
      const around = (await get(`/api/v1/alerts/${defenderAlert}/graph`, { depth: 1 })).body as GraphBody;

      expect(names(paths)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
      expect(names(around)).toEqual(['adwsEndpoint', 'mspaint.exe', 'notepad.exe', 'powershell.exe']);
      expect(around.nodes.map((n) => n.key)).toEqual(expect.arrayContaining(paths.nodes.map((n) => n.key)));
    });

    it("cuts at limit nodes, the alert's own first, saying truncated with the counts", async () => {
      const cut = (await get(`/api/v1/alerts/${sysmonAlert}/graph`, { depth: 2, limit: 3 })).body as GraphBody;
      const pathCut = (await get(`/api/v1/alerts/${sysmonAlert}/graph`, { limit: 2 })).body as GraphBody;

      expect(names(cut)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
      expect(cut.attributes).toMatchObject({
        truncated: true,
        counts: { reachableNodes: 5, shownNodes: 3 },
      });
      expect(cut.attributes.counts.shownEvents).toBeLessThan(cut.attributes.counts.reachableEvents);
      expect(pathCut.nodes).toHaveLength(2);
      expect(pathCut.attributes).toMatchObject({ truncated: true, counts: { reachableNodes: 3, shownNodes: 2 } });
      expect((await get(`/api/v1/alerts/${sysmonAlert}/graph`, { limit: 0 })).status).toBe(400);
    });
  });
});
