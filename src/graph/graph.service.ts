import { Inject, Injectable } from '@nestjs/common';

import { AlertService } from '../alerts/alert.service.js';
import type { Alert } from '../alerts/alert.model.js';
import { NotFoundError } from '../common/domain.errors.js';
import { alertSubgraph } from '../detection/adws-rule.detector.js';
import { CorrelationLoader, reachOf } from '../detection/correlation.loader.js';
import { DeviceUnitRepository } from '../detection/device-unit.repository.js';
import type { DeviceUnit } from '../detection/device-unit.resolver.js';
import { buildDeviceGraph, identityOf, type DeviceGraph, type DeviceGraphEvents } from '../detection/graph.builder.js';
import { EventRepository } from '../ingest/event.repository.js';
import type { SysmonEvent } from '../ingest/event.types.js';
import { SysmonEventRepository } from '../ingest/sysmon-event.repository.js';
import { RuleService } from '../rules/rule.service.js';
import type { AdwsRuleSettings } from '../rules/rule.types.js';
import { canonicalDeviceId } from '../vocabulary/graph.vocabulary.js';
import { served, type GraphBounds } from './graph.attributes.js';
import { exportGraph, type GraphExportFormat } from './graph.export.js';
import { injectionAndConnectionNodes, nearby, whole, type GraphPart } from './graph.neighbourhood.js';
import { isOpen, timeWindow, withinWindow, type TimeWindow } from './graph.window.js';

/** Events of each kind a device graph reads by default, newest first. */
const DEFAULT_EVENT_LIMIT = 5000;
/** Nodes a process neighbourhood or an alert graph draws by default. */
const DEFAULT_NODE_LIMIT = 500;
const DEFAULT_PROCESS_DEPTH = 2;

export interface RenderedGraph {
  contentType: string;
  body: unknown;
}

export interface DeviceGraphQuery {
  format?: GraphExportFormat;
  /** Events of each kind, newest first. */
  limit?: number;
  depth?: number;
  from?: string;
  to?: string;
}

export interface ProcessGraphQuery {
  format?: GraphExportFormat;
  depth?: number;
  /** Nodes, nearest first. */
  limit?: number;
  from?: string;
  to?: string;
}

export interface AlertGraphQuery {
  format?: GraphExportFormat;
  depth?: number;
  /** Nodes, the alert's own first. */
  limit?: number;
}

/** A device's drawn graph, and whether the per-kind event limit may have left events of the window out. */
interface DrawnGraph {
  graph: DeviceGraph;
  truncated: boolean;
  /** Whether the device has any drawn events at all, in or out of the window. */
  anyEvents: boolean;
}

interface AlertScope {
  unit: DeviceUnit;
  ports: number[];
  settings: AdwsRuleSettings;
}

/** What a device's drawn graph is made of, and whether the per-kind limit cut events of the window out. */
type DrawnEvents = Required<DeviceGraphEvents> & { truncated: boolean };

/** The entity graphs analysts explore: a device's process graph, one process's neighbourhood, an alert's paths. */
@Injectable()
export class GraphService {
  constructor(
    @Inject(EventRepository) private readonly events: EventRepository,
    @Inject(SysmonEventRepository) private readonly sysmon: SysmonEventRepository,
    @Inject(DeviceUnitRepository) private readonly deviceUnits: DeviceUnitRepository,
    @Inject(CorrelationLoader) private readonly loader: CorrelationLoader,
    @Inject(RuleService) private readonly rules: RuleService,
    @Inject(AlertService) private readonly alerts: AlertService,
  ) {}

  /**
   * The device's process graph: its newest `limit` events of each kind within the window; with a depth, only the
   * nodes within that many hops of its injections and ADWS connections.
   */
  async deviceGraph(requestedId: string, query: DeviceGraphQuery = {}): Promise<RenderedGraph> {
    const deviceId = canonicalDeviceId(requestedId);
    const window = timeWindow(query);
    const drawn = await this.drawnGraph(deviceId, query.limit ?? DEFAULT_EVENT_LIMIT, window);
    if (!drawn.anyEvents) throw new NotFoundError(`device ${deviceId} has no injection or ADWS connection events`);

    const part =
      query.depth === undefined
        ? whole(drawn.graph)
        : nearby(drawn.graph, injectionAndConnectionNodes(drawn.graph), query.depth);
    return render(part, { truncated: drawn.truncated || part.truncated, depth: query.depth, ...window }, query.format);
  }

  /**
   * The neighbourhood of one process in its device's drawn graph (within the window): nodes within `depth` hops
   * either way, at most `limit` of them, nearest first.
   */
  async processGraph(requestedId: string, processKey: string, query: ProcessGraphQuery = {}): Promise<RenderedGraph> {
    const deviceId = canonicalDeviceId(requestedId);
    const window = timeWindow(query);
    const drawn = await this.drawnGraph(deviceId, DEFAULT_EVENT_LIMIT, window);
    if (!drawn.graph.hasNode(processKey)) {
      const within = isOpen(window) ? '' : ' within from/to';
      throw new NotFoundError(`device ${deviceId} has no process ${processKey} in its graph${within}`, { processKey });
    }

    const depth = query.depth ?? DEFAULT_PROCESS_DEPTH;
    const part = nearby(drawn.graph, [processKey], depth, query.limit ?? DEFAULT_NODE_LIMIT);
    const bounds = { truncated: drawn.truncated || part.truncated, processKey, depth, ...window };
    return render(part, bounds, query.format);
  }

  /**
   * The paths behind an alert, edges carrying only the events it cites (depth 0, the default); with a depth, the
   * device graph within that many hops of the alert's nodes, edges whole. At most `limit` nodes, the alert's first.
   */
  async alertGraph(alertId: string, query: AlertGraphQuery = {}): Promise<RenderedGraph> {
    const alert = await this.alerts.get(alertId);
    const depth = query.depth ?? 0;
    const limit = query.limit ?? DEFAULT_NODE_LIMIT;
    const { graph, truncated } = depth === 0 ? await this.alertPaths(alert) : await this.alertSurroundings(alert);
    graph.setAttribute('alertId', alert.id);

    const part = nearby(graph, alert.nodeKeys, depth, limit);
    return render(part, { truncated: truncated || part.truncated, depth }, query.format);
  }

  /** The alert's own paths: the correlation events behind it, with only the occurrences it cites. */
  private async alertPaths(alert: Alert): Promise<{ graph: DeviceGraph; truncated: boolean }> {
    const scope = await this.alertScope(alert);
    const events = await this.alertEvents(alert, scope);
    const graph = buildDeviceGraph(alert.deviceId, events, scope.ports, identityOf(alert.mode));

    return { graph: alertSubgraph(graph, alert), truncated: false };
  }

  /**
   * The device graph around the alert: its correlation events and the device's drawn events together, under the
   * alert's identity mode so its node keys hold. The drawn events are capped like a device graph's.
   */
  private async alertSurroundings(alert: Alert): Promise<{ graph: DeviceGraph; truncated: boolean }> {
    const scope = await this.alertScope(alert);
    const { unit, ports } = scope;
    const correlation = await this.alertEvents(alert, scope);
    const drawn = await this.drawnEvents(unit, ports, DEFAULT_EVENT_LIMIT, {});
    const events = {
      injections: [...correlation.injections, ...drawn.injections],
      connections: [...correlation.connections, ...drawn.connections],
      sysmon: [...(correlation.sysmon ?? []), ...drawn.sysmon],
      hostIds: unit.hostIds,
    };
    const graph = buildDeviceGraph(alert.deviceId, events, ports, identityOf(alert.mode));
    const missing = alert.nodeKeys.find((key) => !graph.hasNode(key));
    if (missing !== undefined) throw new NotFoundError('alert node is not in the device graph', { nodeKey: missing });

    return { graph, truncated: drawn.truncated };
  }

  /** The alert's device unit, and the ports its graph reads: today's ADWS ports and those of its connections. */
  private async alertScope(alert: Alert): Promise<AlertScope> {
    const settings = await this.rules.getSettings();
    const ports = [...new Set([...settings.adwsPorts, ...alert.connections.map((c) => c.remotePort)])];

    return { unit: await this.unitOf(alert.deviceId), ports, settings };
  }

  /** The correlation events of the alert's unit, as far back as its own paths reach, not today's settings. */
  private async alertEvents(alert: Alert, { unit, ports, settings }: AlertScope): Promise<DeviceGraphEvents> {
    const longest = Math.max(0, ...alert.paths.map((p) => p.edges.length - 1));
    const reach = reachOf({
      mode: alert.mode,
      maxChainDepth: Math.max(settings.maxChainDepth, longest),
      followDescendants: settings.followDescendants || alert.paths.some((p) => p.viaDescendant),
    });

    return (await this.loader.load([unit], ports, reach)).get(unit.deviceId)!;
  }

  /** The device's drawn graph under the current settings, within the window. */
  private async drawnGraph(deviceId: string, limit: number, window: TimeWindow): Promise<DrawnGraph> {
    const { adwsPorts, mode } = await this.rules.getSettings();
    const unit = await this.unitOf(deviceId);
    const { truncated, ...events } = await this.drawnEvents(unit, adwsPorts, limit, window);
    const graph = buildDeviceGraph(deviceId, events, adwsPorts, identityOf(mode));
    const anyEvents = graph.order > 0 || (!isOpen(window) && (await this.hasDrawnEvents(unit, adwsPorts)));

    return { graph: withinWindow(graph, window), truncated, anyEvents };
  }

  /** Whether the unit has any drawn event at all, whatever its time (an empty window is not an unknown device). */
  private async hasDrawnEvents(unit: DeviceUnit, adwsPorts: number[]): Promise<boolean> {
    const one = await this.drawnEvents(unit, adwsPorts, 1, {});

    return one.injections.length + one.connections.length + one.sysmon.length > 0;
  }

  /** The device's correlation unit; a host merged into a Defender device is drawn on its own. */
  private async unitOf(deviceId: string): Promise<DeviceUnit> {
    const plan = await this.deviceUnits.plan([deviceId]);
    const unit = plan.units.find((u) => u.deviceId === deviceId);
    if (unit) return unit;

    return { deviceId, defenderIds: [], hostIds: [deviceId] };
  }

  /**
   * What a drawn device graph shows, newest first up to `limit` per kind within the window: Defender injections
   * and ADWS connections, Sysmon remote threads, process accesses and ADWS connections, and the Sysmon creations of
   * the processes they name (for names, GUIDs and `spawned` edges, whatever their time). `truncated` when a kind
   * had more events in the window than `limit`.
   */
  private async drawnEvents(
    unit: DeviceUnit,
    adwsPorts: number[],
    limit: number,
    window: TimeWindow,
  ): Promise<DrawnEvents> {
    const defender = unit.defenderIds.length
      ? await this.events.loadDeviceGraphEvents(unit.defenderIds[0]!, adwsPorts, limit, window)
      : { injections: [], connections: [], truncated: false };
    const read = await this.sysmon.graphEvents(unit.hostIds, adwsPorts, limit + 1, window);
    const sysmon = read.slice(0, limit);
    const creates = await this.sysmon.createsOf(processesNamedBy(sysmon));

    return {
      injections: defender.injections,
      connections: defender.connections,
      sysmon: [...sysmon, ...creates],
      hostIds: unit.hostIds,
      truncated: defender.truncated || read.length > limit,
    };
  }
}

/** The part with its bounds and counts as graph attributes, in the asked format. */
function render(part: GraphPart, bounds: GraphBounds, format: GraphExportFormat = 'json'): RenderedGraph {
  return exportGraph(served(part.graph, bounds, part.counts), format);
}

/** (host, pid) of every process the Sysmon events name, as source or target. */
function processesNamedBy(events: readonly SysmonEvent[]): (readonly [string, number])[] {
  const pids = new Set<string>();
  for (const e of events) {
    if (e.processId !== null) pids.add(`${e.deviceId}\u0000${e.processId}`);
    if (e.targetProcessId !== null) pids.add(`${e.deviceId}\u0000${e.targetProcessId}`);
  }

  return [...pids].map((p) => p.split('\u0000')).map(([id, pid]) => [id!, Number(pid)] as const);
}
