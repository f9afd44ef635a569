import { Inject, Injectable } from '@nestjs/common';

import { AlertService } from '../alerts/alert.service.js';
import { NotFoundError } from '../common/domain.errors.js';
import { alertSubgraph } from '../detection/adws-rule.detector.js';
import { buildDeviceGraph } from '../detection/graph.builder.js';
import { EventRepository } from '../ingest/event.repository.js';
import { RuleService } from '../rules/rule.service.js';
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
    @Inject(RuleService) private readonly rules: RuleService,
    @Inject(AlertService) private readonly alerts: AlertService,
  ) {}

  async deviceGraph(
    deviceId: string,
    format: GraphExportFormat = 'json',
    limit = DEFAULT_EVENT_LIMIT,
  ): Promise<RenderedGraph> {
    const { adwsPorts } = await this.rules.getSettings();
    const { truncated, ...events } = await this.events.loadDeviceGraphEvents(deviceId, adwsPorts, limit);
    const graph = buildDeviceGraph(deviceId, events, adwsPorts);
    if (graph.order === 0) throw new NotFoundError(`device ${deviceId} has no injection or ADWS connection events`);

    graph.setAttribute('truncated', truncated);
    return exportGraph(graph, format);
  }

  async alertGraph(alertId: string, format: GraphExportFormat = 'json'): Promise<RenderedGraph> {
    const alert = await this.alerts.get(alertId);
    const { adwsPorts } = await this.rules.getSettings();
    const ports = [...new Set([...adwsPorts, ...alert.connections.map((c) => c.remotePort)])];
    const events = await this.events.loadCorrelationEvents([alert.deviceId], ports);
    const graph = alertSubgraph(buildDeviceGraph(alert.deviceId, events, ports), alert);

    graph.setAttribute('alertId', alert.id);
    return exportGraph(graph, format);
  }
}
