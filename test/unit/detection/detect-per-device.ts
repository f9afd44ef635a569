import { detectAlertCandidates } from '../../../src/detection/adws-rule.detector.js';
import type { AlertCandidate } from '../../../src/detection/alert.types.js';
import { buildDeviceGraph, type DeviceGraph } from '../../../src/detection/graph.builder.js';
import type { DeviceEvent, DeviceNetworkEvent } from '../../../src/ingest/event.types.js';
import { DEFAULT_ADWS_RULE_SETTINGS, type AdwsRuleSettings } from '../../../src/rules/rule.types.js';

export interface EventSet {
  injections: readonly DeviceEvent[];
  connections: readonly DeviceNetworkEvent[];
}

/** One graph per device id found in the events, in device id order. */
export function graphsPerDevice(events: EventSet, adwsPorts: readonly number[]): Map<string, DeviceGraph> {
  const deviceIds = [...new Set([...events.injections, ...events.connections].map((e) => e.deviceId))].sort();

  return new Map(
    deviceIds.map((deviceId) => {
      const injections = events.injections.filter((e) => e.deviceId === deviceId);
      const connections = events.connections.filter((e) => e.deviceId === deviceId);
      return [deviceId, buildDeviceGraph(deviceId, { injections, connections }, adwsPorts)];
    }),
  );
}

/** The engine end to end on pure data: build each device's graph, detect, concatenate. */
export function detectPerDevice(
  events: EventSet,
  settings: AdwsRuleSettings = DEFAULT_ADWS_RULE_SETTINGS,
): AlertCandidate[] {
  const graphs = graphsPerDevice(events, settings.adwsPorts);

  return [...graphs.values()].flatMap((graph) => detectAlertCandidates(graph, settings));
}
