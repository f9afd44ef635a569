import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRepository } from '../../../src/ingest/event.repository.js';
import * as Q from '../../../src/database/event.queries.js';
import { EventTable, INJECTION_ACTION_TYPES } from '../../../src/vocabulary/graph.vocabulary.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';
import { connectionFrom, deviceEvent, injectionInto } from '../../support/event.factory.js';

const RECEIVED_AT = '2024-03-02T00:00:00.000Z';
const ADWS = [9389];

let testDb: TestDatabase;
let repo: EventRepository;

beforeAll(async () => {
  testDb = await createTestDatabase();
  repo = new EventRepository(testDb.db);
});

afterAll(async () => {
  await testDb?.cleanup();
});

/**
 * Device "corr-1": powershell (pid 500) is injected and connects to ADWS, plus one decoy per rule of the
 * join. Device "corr-2" has a connection from the same pid and name but no injection.
 */
describe('EventRepository.loadCorrelationEvents', () => {
  const hit = injectionInto('corr-1', 500, 'PowerShell.EXE', { actionType: 'createremotethreadapicall' });
  const connection = connectionFrom('corr-1', 500, 'powershell.exe');
  const decoys = {
    otherPid: injectionInto('corr-1', 501, 'powershell.exe'),
    otherDevice: injectionInto('corr-3', 500, 'powershell.exe'),
    notInjection: injectionInto('corr-1', 500, 'powershell.exe', { actionType: 'ProcessCreated' }),
    emptyName: injectionInto('corr-1', 600, ''),
    wrongPort: injectionInto('corr-1', 700, 'cmd.exe'),
    failedConnection: injectionInto('corr-1', 800, 'wsmprovhost.exe'),
  };
  const otherConnections = [
    connectionFrom('corr-1', 600, '', {}),
    connectionFrom('corr-1', 700, 'cmd.exe', { remotePort: 445 }),
    connectionFrom('corr-1', 800, 'wsmprovhost.exe', { actionType: 'ConnectionFailed' }),
    connectionFrom('corr-2', 501, 'powershell.exe'),
  ];

  beforeAll(async () => {
    await repo.insertEvents([hit, connection, ...Object.values(decoys), ...otherConnections], RECEIVED_AT);
  });

  it('returns only injections whose target made an ADWS connection on the same device', async () => {
    const { injections } = await repo.loadCorrelationEvents(['corr-1', 'corr-2', 'corr-3'], ADWS);

    expect(injections.map((e) => e.eventKey)).toEqual([hit.eventKey]);
    expect(injections[0]).toEqual({ ...hit, raw: null });
  });

  it('returns the ADWS connections of the asked devices as canonical events without raw', async () => {
    const { connections } = await repo.loadCorrelationEvents(['corr-1', 'corr-2'], ADWS);

    const keys = connections.map((e) => e.eventKey).sort();
    expect(keys).toEqual([connection.eventKey, otherConnections[0].eventKey, otherConnections[3].eventKey].sort());
    expect(connections.find((c) => c.eventKey === connection.eventKey)).toEqual({ ...connection, raw: null });
  });

  it('only looks at the devices asked for', async () => {
    const result = await repo.loadCorrelationEvents(['corr-2'], ADWS);

    expect(result.injections).toEqual([]);
    expect(result.connections.map((e) => e.deviceId)).toEqual(['corr-2']);
  });

  it('joins on another port when that port is configured', async () => {
    const { injections } = await repo.loadCorrelationEvents(['corr-1'], [445]);

    expect(injections.map((e) => e.eventKey)).toEqual([decoys.wrongPort.eventKey]);
  });

  it('returns nothing for no devices or no ports', async () => {
    expect(await repo.loadCorrelationEvents([], ADWS)).toEqual({ injections: [], connections: [] });
    expect(await repo.loadCorrelationEvents(['corr-1'], [])).toEqual({ injections: [], connections: [] });
  });
});

describe('EventRepository graph and device queries', () => {
  const injections = INJECTION_ACTION_TYPES.map((actionType, i) =>
    injectionInto('graph-1', 10 + i, 'x.exe', { actionType }),
  );
  const connections = [
    connectionFrom('graph-1', 1, 'a.exe'),
    connectionFrom('graph-1', 2, 'b.exe', { remotePort: 445 }),
  ];
  const other = deviceEvent({ deviceId: 'graph-1', actionType: 'Other' });

  beforeAll(async () => {
    await repo.insertEvents([...injections, other, ...connections], RECEIVED_AT);
  });

  it('returns every injection of a device (no join) and its ADWS connections, newest first', async () => {
    const result = await repo.loadDeviceGraphEvents('graph-1', ADWS, 100);

    expect(result.truncated).toBe(false);
    expect(result.injections.map((e) => e.eventKey)).toEqual(injections.map((e) => e.eventKey).reverse());
    expect(result.connections.map((e) => e.eventKey)).toEqual([connections[0].eventKey]);
  });

  it('cuts at the limit and says so', async () => {
    const result = await repo.loadDeviceGraphEvents('graph-1', ADWS, 3);

    expect(result.truncated).toBe(true);
    expect(result.injections.map((e) => e.eventKey)).toEqual(
      injections
        .slice(-3)
        .map((e) => e.eventKey)
        .reverse(),
    );
    expect(result.connections).toHaveLength(1);
  });

  it('is not truncated when exactly at the limit', async () => {
    const result = await repo.loadDeviceGraphEvents('graph-1', ADWS, INJECTION_ACTION_TYPES.length);

    expect(result.truncated).toBe(false);
  });

  it('lists the devices with an ADWS connection', async () => {
    const devices = await repo.devicesWithAdwsConnections(ADWS);

    expect(devices).toContain('graph-1');
    expect(devices).toEqual([...devices].sort());
    expect(await repo.devicesWithAdwsConnections([1])).toEqual([]);
  });

  it('fetches raw rows by reference in the order asked and skips unknown ones', async () => {
    const refs = [
      { table: EventTable.DeviceNetworkEvents, deviceId: 'graph-1', eventKey: connections[1].eventKey },
      { table: EventTable.DeviceEvents, deviceId: 'graph-1', eventKey: 'r:missing' },
      { table: EventTable.DeviceEvents, deviceId: 'graph-1', eventKey: injections[0].eventKey },
      { table: EventTable.DeviceEvents, deviceId: 'graph-1', eventKey: connections[0].eventKey },
    ];

    const raws = await repo.getRawEvents(refs);

    expect(raws).toEqual([
      { ...refs[0], timestamp: connections[1].timestamp, raw: connections[1].raw },
      { ...refs[2], timestamp: injections[0].timestamp, raw: injections[0].raw },
    ]);
  });
});

describe('indexes', () => {
  async function planOf(sql: string, params: unknown[]): Promise<string> {
    return testDb.db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      const plan = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);

      return plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  }

  it('the correlation queries can use the partial and expression indexes', async () => {
    const injections = await planOf(Q.SELECT_CORRELATION_INJECTIONS, [['corr-1'], ADWS]);
    const connections = await planOf(Q.SELECT_CORRELATION_CONNECTIONS, [['corr-1'], ADWS]);

    expect(injections).toContain('device_events_injection_target_idx');
    expect(connections).toContain('device_network_events_port_idx');
  });
});
