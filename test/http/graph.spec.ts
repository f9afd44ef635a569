import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readGexf, readGraphml } from '../support/graph-documents.js';
import { connectionRow, injectionRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('graph endpoints', () => {
  let t: TestApp;
  let alertId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const post = (path: string, rows: unknown[]) =>
      t.http().post(path).set('content-type', 'application/json').send(JSON.stringify(rows));
    await post('/api/v1/events/DeviceEvents', [
      injectionRow({ DeviceId: 'graph-1' }),
      injectionRow({
        DeviceId: 'graph-1',
        InitiatingProcessId: 700,
        InitiatingProcessFileName: 'rundll32.exe',
        ProcessId: 900,
        FileName: 'calc.exe',
      }),
    ]);
    await post('/api/v1/events/DeviceNetworkEvents', [connectionRow({ DeviceId: 'graph-1' })]);
    alertId = (await t.http().get('/api/v1/alerts').query({ deviceId: 'graph-1' })).body.items[0].id;
  });
  afterAll(async () => t.close());

  it("draws the device's processes, injections and ADWS endpoints in graphology's serialised form", async () => {
    const reply = await t.http().get('/api/v1/devices/graph-1/graph');

    expect(reply.status).toBe(200);
    const kinds = reply.body.nodes.map((n: { attributes: { kind: string } }) => n.attributes.kind).sort();
    expect(kinds).toEqual(['adwsEndpoint', 'process', 'process', 'process', 'process']);
    expect(reply.body.edges.map((e: { attributes: { kind: string } }) => e.attributes.kind).sort()).toEqual([
      'connected',
      'injected',
      'injected',
    ]);
    expect(reply.body.attributes).toMatchObject({ deviceId: 'graph-1', truncated: false });
  });

  it("gives only the alert's path, with the stored events behind every edge", async () => {
    const reply = await t.http().get(`/api/v1/alerts/${alertId}/graph`);

    expect(reply.status).toBe(200);
    const labels = reply.body.nodes
      .map((n: { key: string; attributes: Record<string, unknown> }) =>
        n.attributes.kind === 'process' ? `${n.attributes.fileName} ${n.attributes.processId}` : n.key,
      )
      .sort();
    expect(labels).toEqual(['adws:graph-1:10.0.0.10:9389', 'notepad.exe 4242', 'powershell.exe 6008']);
    for (const edge of reply.body.edges) expect(edge.attributes.occurrences.length).toBeGreaterThan(0);
    expect(reply.body.attributes.alertId).toBe(alertId);
  });

  it('exports Cytoscape.js elements and GEXF', async () => {
    const cy = await t.http().get(`/api/v1/alerts/${alertId}/graph`).query({ format: 'cytoscape' });
    const gexf = await t.http().get('/api/v1/devices/graph-1/graph').query({ format: 'gexf' });

    expect(cy.body.elements.nodes).toHaveLength(3);
    expect(cy.body.elements.edges).toHaveLength(2);
    expect(gexf.headers['content-type']).toMatch(/application\/gexf\+xml/);
    expect(gexf.text).toMatch(/^<\?xml/);
    expect(gexf.text.match(/<node /g)).toHaveLength(5);
    expect(gexf.text).toContain(
      '<description>process graph of device graph-1 (truncated=false reachableNodes=5 shownNodes=5 ' +
        'reachableEvents=3 shownEvents=3)</description>',
    );
    expect(gexf.text).not.toContain('<deviceId>');
    const graphml = await t.http().get('/api/v1/devices/graph-1/graph').query({ format: 'graphml' });
    expect(graphml.headers['content-type']).toMatch(/application\/graphml\+xml/);
    expect(graphml.text.match(/<node /g)).toHaveLength(5);
    expect(readGexf(gexf.text).nodes).toHaveLength(5);
    expect(readGraphml(graphml.text).edges).toHaveLength(3);
  });

  it('draws a process neighbourhood bounded by depth and limit, saying when the limit cut it', async () => {
    const device = (await t.http().get('/api/v1/devices/graph-1/graph')).body;
    const notepad = device.nodes.find((n: any) => n.attributes.fileName === 'notepad.exe').key as string;
    const path = `/api/v1/devices/graph-1/processes/${encodeURIComponent(notepad)}/graph`;
    const keysOf = (reply: any) => reply.body.nodes.map((n: any) => n.attributes.fileName ?? n.attributes.kind).sort();

    const alone = await t.http().get(path).query({ depth: 0 });
    const near = await t.http().get(path).query({ depth: 1 });
    const cut = await t.http().get(path).query({ depth: 2, limit: 2 });

    expect(keysOf(alone)).toEqual(['notepad.exe']);
    expect(keysOf(near)).toEqual(['adwsEndpoint', 'notepad.exe', 'powershell.exe']);
    expect(near.body.edges).toHaveLength(2);
    expect(near.body.attributes).toMatchObject({ truncated: false, counts: { reachableNodes: 3, shownNodes: 3 } });
    expect(cut.body.attributes).toMatchObject({ truncated: true, counts: { reachableNodes: 3, shownNodes: 2 } });
    expect((await t.http().get('/api/v1/devices/graph-1/processes/nope/graph')).status).toBe(404);
    expect((await t.http().get(path).query({ depth: 7 })).status).toBe(400);
  });

  it('answers 404 for a device without such events and 400 for an unknown format', async () => {
    expect((await t.http().get('/api/v1/devices/nobody/graph')).status).toBe(404);
    expect((await t.http().get('/api/v1/devices/graph-1/graph').query({ format: 'dot' })).status).toBe(400);
  });
});
