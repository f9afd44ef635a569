import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The acceptance table of the Sysmon source, on the real OTRF recordings bundled in test/fixtures/otrf/sysmon:
 * each recording is replayed through POST /api/v1/events/sysmon into its own service, detected under the default
 * ADWS port (9389), then re-run with port 80 (the C2 port of the recorded attacks) standing in for ADWS.
 */
const RECORDINGS = new URL('../fixtures/otrf/sysmon/', import.meta.url);
const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';

interface Replay {
  t: TestApp;
  ingest: { received: number; inserted: number; duplicates: number; skipped: number; rejected: number };
}

async function replay(name: string): Promise<Replay> {
  const t = await createTestApp();
  const body = await readFile(new URL(`${name}.extract.ndjson`, RECORDINGS));
  const reply = await t.http().post('/api/v1/events/sysmon').set('content-type', 'application/x-ndjson').send(body);
  expect(reply.status).toBe(200);

  return { t, ingest: reply.body };
}

async function alertsOf(t: TestApp) {
  const reply = await t.http().get('/api/v1/alerts').query({ limit: 100 });
  expect(reply.status).toBe(200);

  return reply.body.items as Record<string, any>[];
}

/** The rule mode every re-run of a describe block uses (both modes must meet the acceptance table). */
let mode = 'graph';

async function withPorts(t: TestApp, adwsPorts: number[], exclusions?: unknown[]) {
  const current = (await t.http().get(RULE)).body.settings;
  await t
    .http()
    .put(RULE)
    .send({ ...current, mode, adwsPorts, exclusions: exclusions ?? current.exclusions })
    .expect(200);
  await t.http().post(`${RULE}/rerun`).expect(200);

  return alertsOf(t);
}

function countByTable(evidence: { table: string }[], table: string): number {
  return evidence.filter((e) => e.table === table).length;
}

const ALL = readdirSync(RECORDINGS)
  .filter((file) => file.endsWith('.extract.ndjson'))
  .map((file) => file.replace('.extract.ndjson', ''))
  .sort();

describe('every recording under the default port 9389: the 9389 traffic is a domain controller’s own', () => {
  it('bundles the ten recordings', () => {
    expect(ALL).toHaveLength(10);
  });

  it.each(ALL)('%s: stored without rejections, repeated lines once, no alert', async (name) => {
    const lines = readFileSync(new URL(`${name}.extract.ndjson`, RECORDINGS), 'utf8')
      .split('\n')
      .filter(Boolean);
    const { t, ingest } = await replay(name);
    try {
      expect(ingest.rejected).toBe(0);
      expect(ingest.received).toBe(lines.length);
      // Some recordings hold byte-identical lines (the shipper sent an event twice): those are one event.
      expect(ingest.duplicates).toBe(lines.length - new Set(lines).size);
      expect(ingest.inserted + ingest.skipped + ingest.duplicates).toBe(ingest.received);
      expect(await alertsOf(t)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe.each(['graph', 'reference'])('recordings with port 80 as the ADWS port, %s mode', (modeOfBlock) => {
  beforeAll(() => {
    mode = modeOfBlock;
  });
  const replays = new Map<string, Replay>();
  const open = async (name: string) => {
    const r = await replay(name);
    replays.set(name, r);
    return r.t;
  };
  afterAll(async () => {
    for (const r of replays.values()) await r.t.close();
  });

  it('covenant_wmi_wbemcomn_dll_hijack: one alert, WmiPrvSE.exe → notepad.exe 2580 on WORKSTATION6', async () => {
    const t = await open('covenant_wmi_wbemcomn_dll_hijack');
    const alerts = await withPorts(t, [80]);

    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ hostName: 'WORKSTATION6', processId: 2580, fileName: 'notepad.exe' });
    expect(alerts[0]!.deviceId).toBe('host:workstation6.theshire.local');
    expect(alerts[0]!.mode).toBe(modeOfBlock);
    expect(alerts[0]!.injectors.map((i: { fileName: string }) => i.fileName)).toEqual(['WmiPrvSE.exe']);
    expect(alerts[0]!.injectionMethods).toEqual(['CreateRemoteThreadApiCall']);
  });

  it('empire_psinject_PEinjection: one alert, powershell.exe → notepad.exe 2576 on WORKSTATION5, 88 + 16 events', async () => {
    const t = await open('empire_psinject_PEinjection');
    const alerts = await withPorts(t, [80]);

    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({ hostName: 'WORKSTATION5', processId: 2576, fileName: 'notepad.exe' });
    expect(alert!.injectors).toHaveLength(1);
    expect(alert!.injectors[0].fileName.toLowerCase()).toBe('powershell.exe');
    expect(alert!.connections).toHaveLength(16);
    expect(countByTable(alert!.evidence, 'SysmonEvents')).toBe(88 + 16);
  });

  it('covenant_lolbin_wuauclt_createremotethread: wuauclt.exe → <unknown process> 2368, resolved to notepad.exe', async () => {
    const t = await open('covenant_lolbin_wuauclt_createremotethread');
    const alerts = await withPorts(t, [80]);

    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ processId: 2368, fileName: 'notepad.exe', hostName: 'WORKSTATION5' });
    expect(alerts[0]!.injectors.map((i: { fileName: string }) => i.fileName)).toEqual(['wuauclt.exe']);

    const graph = await t.http().get(`/api/v1/alerts/${alerts[0]!.id}/graph`).query({ format: 'json' });
    expect(graph.status).toBe(200);
    const target = graph.body.nodes.find(
      (n: any) => n.attributes.kind === 'process' && n.attributes.processId === 2368,
    );
    expect(target.attributes).toMatchObject({ fileName: 'notepad.exe', processGuid: expect.any(String) });
    const injected = graph.body.edges.find((e: any) => e.attributes.kind === 'injected');
    expect(injected.target).toBe(target.key);
    expect(injected.attributes.occurrences[0].evidence).toMatchObject({ table: 'SysmonEvents' });
    expect(graph.body.edges.some((e: any) => e.attributes.kind === 'connected' && e.source === target.key)).toBe(true);
  });

  it('covenant_dcom_iertutil_dll_hijack: iexplore.exe → 3532 resolved to notepad.exe, connection stamped before', async () => {
    const t = await open('covenant_dcom_iertutil_dll_hijack');
    const alerts = await withPorts(t, [80]);

    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({ processId: 3532, fileName: 'notepad.exe' });
    expect(alert!.injectors.map((i: { fileName: string }) => i.fileName.toLowerCase())).toEqual(['iexplore.exe']);
    expect(alert!.connections[0].timestamp < alert!.injectors[0].firstSeen).toBe(true);
  });

  it('empire_persistence_registry_modification_run_keys_standard_user: csrss.exe injections are excluded', async () => {
    const t = await open('empire_persistence_registry_modification_run_keys_standard_user');

    expect(await alertsOf(t)).toEqual([]);
    expect(await withPorts(t, [80])).toEqual([]);
    // One of the 82 injected processes (svchost.exe 5100) connects to ::1 port 64295: only the exclusion holds it.
    expect(await withPorts(t, [64295])).toEqual([]);
    const unexcluded = await withPorts(t, [64295], []);
    expect(unexcluded).toHaveLength(1);
    expect(unexcluded[0]).toMatchObject({ processId: 5100, fileName: 'svchost.exe', status: 'new' });
    expect(unexcluded[0]!.injectors.map((i: { fileName: string }) => i.fileName)).toEqual(['csrss.exe']);
  });
});
