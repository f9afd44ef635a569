import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { detectAlertCandidates } from '../../src/detection/adws-rule.detector.js';
import type { AlertCandidate } from '../../src/detection/alert.types.js';
import { buildDeviceGraph } from '../../src/detection/graph.builder.js';
import { DEFAULT_ADWS_RULE_SETTINGS, type AdwsRuleSettings } from '../../src/rules/rule.types.js';
import {
  canonicalEvents,
  copyNames,
  permuted,
  planBatches,
  postingPlanArbitrary,
  renderEvents,
  scenarioArbitrary,
  type CopyNames,
  type PostingPlan,
  type RenderedEvent,
  type Route,
} from '../support/graph-mode.arbitraries.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Graph mode must not depend on arrival order: the same small event sets (recycled pids, chains, descendants,
 * excluded injectors, early connections, redeliveries, Sysmon stories) posted in one order and in another
 * permutation and batching give the same alerts, and the pure detector gives deep-equal candidates for any
 * permutation of its input. The stored events are loaded in (time, key) order whatever their arrival, so the HTTP
 * property covers arrival: batching, routes, redeliveries, detection run batch by batch and alerts created, updated
 * and retracted on the way; the pure one covers the graph builder's and detector's input order. fast-check prints
 * the seed and path of a failing case; set GRAPH_ORDER_SEED to try other seeds.
 */
const SEED = Number(process.env.GRAPH_ORDER_SEED ?? 20_240_301);
const HTTP_RUNS = 25;
/** Stops shrinking a failure through HTTP after this long (the shrunk-so-far counterexample is reported). */
const HTTP_TIME_LIMIT_MS = 60_000;
const PURE_RUNS = 300;
/** More than a scenario can render (3 Sysmon stories of 9 events, 7 noise events, 4 redeliveries). */
const MAX_EVENTS = 48;
/** Share of generated cases that must raise at least one alert, so the properties are not vacuous. */
const ALERTING_SHARE = 0.3;
/** Share of pure cases whose alerts include a chain of two injections, and one via a descendant. */
const COVERAGE_SHARE = 0.05;
const SETTINGS: AdwsRuleSettings = { ...DEFAULT_ADWS_RULE_SETTINGS, mode: 'graph' };

const ROUTES = {
  DeviceEvents: '/api/v1/events/DeviceEvents',
  DeviceNetworkEvents: '/api/v1/events/DeviceNetworkEvents',
  sysmon: '/api/v1/events/sysmon',
  mixed: '/api/v1/events',
} as const;
const TABLE_ORDER: Record<Exclude<Route, 'mixed'>, RenderedEvent['table'][]> = {
  'events-first': ['DeviceEvents', 'DeviceNetworkEvents', 'sysmon'],
  'network-first': ['sysmon', 'DeviceNetworkEvents', 'DeviceEvents'],
};

describe('graph mode is order-independent', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it(
    'through HTTP: another permutation and batching of the same events gives the same alerts',
    async () => {
      const seen = newCoverage();
      let run = 0;

      await fc.assert(
        fc.asyncProperty(scenarioArbitrary(), postingPlanArbitrary(MAX_EVENTS), async (scenario, plan) => {
          run++;
          const [first, second] = [copyNames(`zq${run}x`), copyNames(`zq${run}y`)];

          await postInOrder(t, renderEvents(scenario, first));
          await postPlanned(t, renderEvents(scenario, second), plan);

          const expected = await servedAlerts(t, first);
          expect(comparable(await servedAlerts(t, second), second)).toEqual(comparable(expected, first));
          record(seen, expected);
        }),
        { numRuns: HTTP_RUNS, seed: SEED, interruptAfterTimeLimit: HTTP_TIME_LIMIT_MS, markInterruptAsFailure: true },
      );

      expect(seen.runs).toBe(HTTP_RUNS);
      expect(seen.alerting).toBeGreaterThanOrEqual(HTTP_RUNS * ALERTING_SHARE);
      expect(seen.chains + seen.descendants).toBeGreaterThan(0);
    },
    HTTP_TIME_LIMIT_MS + 30_000,
  );

  it('pure: buildDeviceGraph (lifetimes) + graph-mode detection give deep-equal candidates for any permutation', () => {
    const seen = newCoverage();
    const keys = fc.array(fc.nat(1000), { minLength: MAX_EVENTS, maxLength: MAX_EVENTS });

    fc.assert(
      fc.property(scenarioArbitrary(), keys, keys, (scenario, injectionKeys, connectionKeys) => {
        const events = canonicalEvents(scenario, 'order-device');
        const shuffled = {
          injections: permuted(events.injections, injectionKeys),
          connections: permuted(events.connections, connectionKeys),
        };

        const expected = candidatesOf(events);
        expect(candidatesOf(shuffled)).toEqual(expected);
        record(seen, expected);
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );

    expect(seen.runs).toBe(PURE_RUNS);
    expect(seen.alerting).toBeGreaterThanOrEqual(PURE_RUNS * ALERTING_SHARE);
    expect(seen.chains).toBeGreaterThanOrEqual(PURE_RUNS * COVERAGE_SHARE);
    expect(seen.descendants).toBeGreaterThanOrEqual(PURE_RUNS * COVERAGE_SHARE);
  });
});

/** Copy one: every DeviceEvents row in one body, then the DeviceNetworkEvents rows, then the Sysmon events. */
async function postInOrder(t: TestApp, events: RenderedEvent[]): Promise<void> {
  for (const table of TABLE_ORDER['events-first']) await postTable(t, table, events);
}

/** Copy two: permuted, cut into batches; each batch by table (in the route's order) or mixed on /api/v1/events. */
async function postPlanned(t: TestApp, events: RenderedEvent[], plan: PostingPlan): Promise<void> {
  for (const batch of planBatches(events, plan)) {
    if (batch.route !== 'mixed') {
      for (const table of TABLE_ORDER[batch.route]) await postTable(t, table, batch.events);
      continue;
    }

    const defenderRows = batch.events.filter((e) => e.table !== 'sysmon');
    await post(t, ROUTES.mixed, defenderRows);
    await postTable(t, 'sysmon', batch.events);
  }
}

/** The events of one table to that table's route. */
function postTable(t: TestApp, table: RenderedEvent['table'], events: RenderedEvent[]): Promise<void> {
  const rows = events.filter((e) => e.table === table);

  return post(t, ROUTES[table], rows);
}

async function post(t: TestApp, route: string, events: RenderedEvent[]): Promise<void> {
  if (events.length === 0) return;

  const body = JSON.stringify(events.map((e) => e.row));
  const reply = await t.http().post(route).set('content-type', 'application/json').send(body);

  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ received: events.length, rejected: 0, skipped: 0 });
}

/** The current (status new) alerts of a copy, on its Defender device and on its Sysmon host. */
async function servedAlerts(t: TestApp, names: CopyNames): Promise<ServedAlert[]> {
  const alerts: ServedAlert[] = [];
  for (const deviceId of [names.deviceId, names.hostId]) {
    const reply = await t.http().get('/api/v1/alerts').query({ deviceId, status: 'new', limit: 1000 });
    expect(reply.status).toBe(200);
    expect(reply.body.nextCursor).toBeNull();
    alerts.push(...reply.body.items);
  }

  return alerts;
}

/**
 * Alerts without what names the copy or the write (id, device id, revision, times), the copy's token in node keys,
 * evidence refs, path keys and device names replaced by a placeholder, sorted.
 */
function comparable(alerts: ServedAlert[], names: CopyNames): unknown[] {
  const token = names.deviceName.split('.')[0]!;

  return alerts
    .map(({ id: _id, deviceId: _d, revision: _r, createdAt: _c, updatedAt: _u, ...rest }) =>
      JSON.stringify(rest).replaceAll(token, '<copy>'),
    )
    .sort()
    .map((text) => JSON.parse(text));
}

/** How many cases ran, raised alerts, had a two-injection chain among their paths, an alert via a descendant. */
interface Coverage {
  runs: number;
  alerting: number;
  chains: number;
  descendants: number;
}

type AlertShape = Pick<AlertCandidate, 'paths' | 'viaDescendant'>;
/** An alert as GET /api/v1/alerts serves it (the parts this file reads typed). */
type ServedAlert = AlertShape & Record<string, unknown>;

function newCoverage(): Coverage {
  return { runs: 0, alerting: 0, chains: 0, descendants: 0 };
}

function record(seen: Coverage, alerts: AlertShape[]): void {
  const injections = (path: AlertShape['paths'][number]) => path.edges.filter((e) => e.kind === 'injected').length;

  seen.runs++;
  if (alerts.length > 0) seen.alerting++;
  if (alerts.some((a) => a.paths.some((p) => injections(p) >= 2))) seen.chains++;
  if (alerts.some((a) => a.viaDescendant)) seen.descendants++;
}

// TODO: the pure property permutes Defender events only; Sysmon stories reach the builder through HTTP alone, since
// there is no canonical Sysmon event factory yet (and the HTTP loads arrive sorted, so their input order is untested).
function candidatesOf(events: ReturnType<typeof canonicalEvents>): AlertCandidate[] {
  const graph = buildDeviceGraph('order-device', events, SETTINGS.adwsPorts, 'lifetime');

  return detectAlertCandidates(graph, SETTINGS);
}
