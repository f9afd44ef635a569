import { Inject, Injectable } from '@nestjs/common';

import { AlertService } from '../alerts/alert.service.js';
import { NotFoundError } from '../common/domain.errors.js';
import { alertSubgraph } from '../detection/adws-rule.detector.js';
import { CorrelationLoader, reachOf } from '../detection/correlation.loader.js';
import { DeviceUnitRepository } from '../detection/device-unit.repository.js';
import type { DeviceUnit } from '../detection/device-unit.resolver.js';
import { buildDeviceGraph, identityOf, type DeviceGraph, type DeviceGraphEvents } from '../detection/graph.builder.js';
import { EventRepository } from '../ingest/event.repository.js';
import { SysmonEventRepository } from '../ingest/sysmon-event.repository.js';
import { RuleService } from '../rules/rule.service.js';
import { canonicalDeviceId } from '../vocabulary/graph.vocabulary.js';
import { neighbourhood } from './graph.neighbourhood.js';
import { exportGraph, type GraphExportFormat } from './graph.export.js';

const DEFAULT_EVENT_LIMIT = 5000;

export interface RenderedGraph {
  contentType: string;
  body: unknown;
}

/** The entity graphs analysts explore: a device's process graph, and the paths behind one alert. */
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

  async deviceGraph(
    requestedId: string,
    format: GraphExportFormat = 'json',
    limit = DEFAULT_EVENT_LIMIT,
  ): Promise<RenderedGraph> {
    const deviceId = canonicalDeviceId(requestedId);
    const { graph, truncated } = await this.drawnGraph(deviceId, limit);
    if (graph.order === 0) throw new NotFoundError(`device ${deviceId} has no injection or ADWS connection events`);

    graph.setAttribute('truncated', truncated);
    return exportGraph(graph, format);
  }

  /**
   * The neighbourhood of one process in its device's drawn graph: nodes within `depth` hops either way, at most
   * `limit` of them, nearest first; `truncated` and the counts say when the limit cut it.
   */
  async processGraph(
    requestedId: string,
    processKey: string,
    query: { format?: GraphExportFormat; depth?: number; limit?: number },
  ): Promise<RenderedGraph> {
    const deviceId = canonicalDeviceId(requestedId);
    const { graph, truncated } = await this.drawnGraph(deviceId, DEFAULT_EVENT_LIMIT);
    if (!graph.hasNode(processKey)) {
      throw new NotFoundError(`device ${deviceId} has no process ${processKey} in its graph`, { processKey });
    }

    const part = neighbourhood(graph, processKey, query.depth ?? 2, query.limit ?? 500);
    part.graph.mergeAttributes({ truncated: truncated || part.graph.getAttribute('truncated'), counts: part.counts });
    return exportGraph(part.graph, query.format ?? 'json');
  }

  async alertGraph(alertId: string, format: GraphExportFormat = 'json'): Promise<RenderedGraph> {
    const alert = await this.alerts.get(alertId);
    const settings = await this.rules.getSettings();
    const { adwsPorts } = settings;
    const ports = [...new Set([...adwsPorts, ...alert.connections.map((c) => c.remotePort)])];
    const unit = await this.unitOf(alert.deviceId);
    // The alert's own paths, not today's settings, say how far back its graph reaches.
    const longest = Math.max(0, ...alert.paths.map((p) => p.edges.length - 1));
    const reach = reachOf({
      mode: alert.mode,
      maxChainDepth: Math.max(settings.maxChainDepth, longest),
      followDescendants: settings.followDescendants || alert.paths.some((p) => p.viaDescendant),
    });
    const events = (await this.loader.load([unit], ports, reach)).get(unit.deviceId)!;
    const graph = alertSubgraph(buildDeviceGraph(alert.deviceId, events, ports, identityOf(alert.mode)), alert);

    graph.setAttribute('alertId', alert.id);
    return exportGraph(graph, format);
  }

  /** The device's drawn graph under the current settings, and whether `limit` cut events out. */
  private async drawnGraph(deviceId: string, limit: number): Promise<{ graph: DeviceGraph; truncated: boolean }> {
    const { adwsPorts, mode } = await this.rules.getSettings();
    const unit = await this.unitOf(deviceId);
    const { truncated, ...events } = await this.drawnEvents(unit, adwsPorts, limit);

    return { graph: buildDeviceGraph(deviceId, events, adwsPorts, identityOf(mode)), truncated };
  }

  /** The device's correlation unit; a host merged into a Defender device is drawn on its own. */
  private async unitOf(deviceId: string): Promise<DeviceUnit> {
    const plan = await this.deviceUnits.plan([deviceId]);
    const unit = plan.units.find((u) => u.deviceId === deviceId);
    if (unit) return unit;

    return { deviceId, defenderIds: [], hostIds: [deviceId] };
  }

  /**
   * What a drawn device graph shows, newest first up to `limit` per source: Defender injections and ADWS
   * connections, Sysmon remote threads, process accesses and ADWS connections, and the Sysmon creations of the
   * processes they name (for names, GUIDs and `spawned` edges).
   */
  private async drawnEvents(
    unit: DeviceUnit,
    adwsPorts: number[],
    limit: number,
  ): Promise<DeviceGraphEvents & { truncated: boolean }> {
    const defender = unit.defenderIds.length
      ? await this.events.loadDeviceGraphEvents(unit.defenderIds[0]!, adwsPorts, limit)
      : { injections: [], connections: [], truncated: false };
    const drawn = await this.sysmon.graphEvents(unit.hostIds, adwsPorts, limit + 1);
    const sysmon = drawn.slice(0, limit);
    const pids = new Set<string>();
    for (const e of sysmon) {
      if (e.processId !== null) pids.add(`${e.deviceId}\u0000${e.processId}`);
      if (e.targetProcessId !== null) pids.add(`${e.deviceId}\u0000${e.targetProcessId}`);
    }
    const pairs = [...pids].map((p) => p.split('\u0000')).map(([id, pid]) => [id!, Number(pid)] as const);
    const creates = await this.sysmon.createsOf(pairs);

    return {
      injections: defender.injections,
      connections: defender.connections,
      sysmon: [...sysmon, ...creates],
      hostIds: unit.hostIds,
      truncated: defender.truncated || drawn.length > limit,
    };
  }
}
