import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DeviceEvent, DeviceNetworkEvent } from '../../src/ingest/event.types.js';
import {
  generateAdwsEvents,
  referenceAlertCandidates,
  referencePart,
  settingsForSeed,
  type GeneratedEvents,
  type ReferenceCandidate,
} from '../support/adws-reference.js';
import { seededRandom } from '../support/random.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * End to end: seeded random events with every tricky case (file-name case, both exclusion path shapes,
 * wrong ports, near-miss action types, same pid on another device, empty FileName, redelivery) are posted
 * as Defender rows in random batches; the alerts the API serves must equal the plain reference
 * implementation of rules 1-6 (test/support/adws-reference.ts), evidence keys included.
 */
const SEEDS = Array.from({ length: 24 }, (_, i) => 101 + i);
const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';

describe('alerts through HTTP equal the reference implementation of rules 1-6', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it.each(SEEDS)('seed %i', async (seed) => {
    const events = rekey(seed, generateAdwsEvents(seed, { events: 1200 }));
    const settings = settingsForSeed(seed);
    await t.http().put(RULE).send(settings).expect(200);

    const rejected = await postInRandomBatches(t, seed, events);
    const served = await servedCandidates(t, devicesOf(events));

    expect(rejected).toBe(events.injections.filter((e) => e.actionType === '').length);
    expect(served).toEqual(sortCandidates(referenceAlertCandidates(events, settings)));
  });

  it('changes nothing when every event is posted again and when detection re-runs', async () => {
    const seed = SEEDS[0]!;
    const events = rekey(seed, generateAdwsEvents(seed, { events: 1200 }));
    await t.http().put(RULE).send(settingsForSeed(seed)).expect(200);
    const before = await servedAlerts(t, devicesOf(events));

    await postInRandomBatches(t, seed + 1000, events);
    await t.http().post(`${RULE}/rerun`).expect(200);
    const after = await servedAlerts(t, devicesOf(events));

    expect(before.length).toBeGreaterThan(0);
    expect(after).toEqual(before);
  });
});

/** Gives each seed its own devices and numeric ReportIds, as Defender has them; keys follow (r:<time>:<id>). */
function rekey(seed: number, events: GeneratedEvents): GeneratedEvents {
  const ids = new Map<string, number>();
  const reportIdOf = (key: string) => ids.get(key) ?? (ids.set(key, seed * 1_000_000 + ids.size), ids.get(key)!);
  const apply = <E extends DeviceEvent | DeviceNetworkEvent>(event: E): E => {
    const reportId = String(reportIdOf(event.eventKey));
    return { ...event, deviceId: `s${seed}-${event.deviceId}`, reportId, eventKey: `r:${event.timestamp}:${reportId}` };
  };

  return { injections: events.injections.map(apply), connections: events.connections.map(apply) };
}

function devicesOf(events: GeneratedEvents): string[] {
  return [...new Set([...events.injections, ...events.connections].map((e) => e.deviceId))].sort();
}

async function postInRandomBatches(t: TestApp, seed: number, events: GeneratedEvents): Promise<number> {
  const random = seededRandom(seed);
  const queue = random.shuffle([
    ...events.injections.map((e) => ['DeviceEvents', injectionRow(e)] as const),
    ...events.connections.map((e) => ['DeviceNetworkEvents', connectionRow(e)] as const),
  ]);
  let rejected = 0;
  while (queue.length > 0) {
    const chunk = queue.splice(0, 1 + random.int(400));
    const tables = random.shuffle(['DeviceEvents', 'DeviceNetworkEvents'] as const);
    for (const table of tables) {
      const rows = chunk.filter(([t]) => t === table).map(([, row]) => row);
      if (rows.length === 0) continue;
      const reply = await t
        .http()
        .post(`/api/v1/events/${table}`)
        .set('content-type', 'application/json')
        .send(JSON.stringify(rows));
      expect(reply.status).toBe(200);
      rejected += reply.body.rejected;
    }
  }

  return rejected;
}

function injectionRow(e: DeviceEvent) {
  return {
    ...commonRow(e),
    FileName: e.fileName,
    FolderPath: e.folderPath,
    ProcessId: e.processId,
  };
}

function connectionRow(e: DeviceNetworkEvent) {
  return {
    ...commonRow(e),
    RemoteIP: e.remoteIp,
    RemotePort: e.remotePort,
    LocalIP: e.localIp,
    LocalPort: e.localPort,
    Protocol: e.protocol,
  };
}

function commonRow(e: DeviceEvent | DeviceNetworkEvent) {
  return {
    Timestamp: e.timestamp,
    DeviceId: e.deviceId,
    DeviceName: e.deviceName,
    ActionType: e.actionType,
    ReportId: Number(e.reportId),
    InitiatingProcessId: e.initiatingProcessId,
    InitiatingProcessFileName: e.initiatingProcessFileName,
    InitiatingProcessFolderPath: e.initiatingProcessFolderPath,
  };
}

async function servedAlerts(t: TestApp, deviceIds: string[]): Promise<Record<string, unknown>[]> {
  const alerts = [];
  for (const deviceId of deviceIds) {
    const reply = await t.http().get('/api/v1/alerts').query({ deviceId, status: 'new', limit: 1000 });
    expect(reply.body.nextCursor).toBeNull();
    alerts.push(...reply.body.items);
  }

  return alerts;
}

async function servedCandidates(t: TestApp, deviceIds: string[]): Promise<ReferenceCandidate[]> {
  const alerts = await servedAlerts(t, deviceIds);

  return sortCandidates(
    alerts.map((alert) => {
      expectPathsCiteTheEvidence(alert);
      return referencePart(alert);
    }),
  );
}

/** Every alert explains itself: its paths cite exactly its evidence, and it was derived in reference mode. */
function expectPathsCiteTheEvidence(alert: Record<string, any>): void {
  const cited = new Set(alert.paths.flatMap((p: any) => p.edges.flatMap((e: any) => e.evidence.map(JSON.stringify))));

  expect(alert.mode).toBe('reference');
  expect(cited).toEqual(new Set(alert.evidence.map(JSON.stringify)));
}

function sortCandidates(candidates: ReferenceCandidate[]): ReferenceCandidate[] {
  const key = (c: ReferenceCandidate) => JSON.stringify([c.deviceId, c.deviceName, c.processId, c.fileName]);

  return [...candidates].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
