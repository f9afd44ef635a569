import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { RequireScope, Scope } from '../auth/scope.decorator.js';
import { AlertGraphQueryDto, DeviceGraphQueryDto, ProcessGraphQueryDto } from './graph.dto.js';
import { GraphService, type RenderedGraph } from './graph.service.js';

const GRAPH_RESPONSE = {
  description:
    "json: graphology's serialised graph; cytoscape: Cytoscape.js elements; gexf: GEXF 1.3 XML; graphml: GraphML " +
    'XML. The graph attributes (json `attributes`, cytoscape `data`, GraphML graph data keys, the GEXF meta ' +
    'description) carry `truncated`, `counts` (reachableNodes, shownNodes, reachableEvents, shownEvents) and the ' +
    'bounds asked for (depth, from, to).',
  content: {
    'application/json': { schema: { type: 'object', additionalProperties: true } },
    'application/gexf+xml': { schema: { type: 'string' } },
    'application/graphml+xml': { schema: { type: 'string' } },
  },
};
const BAD_BOUNDS = { description: 'A bound out of range, a timestamp that is not ISO 8601, or from later than to' };

@ApiTags('graph')
@RequireScope(Scope.Read)
@Controller('api/v1')
export class GraphController {
  constructor(@Inject(GraphService) private readonly graphs: GraphService) {}

  @Get('devices/:deviceId/graph')
  @ApiOperation({
    summary: "A device's process graph: injections, ADWS connections, and from Sysmon process accesses and creations",
    description:
      'Reads the newest `limit` events of each kind and draws those within from/to; with `depth`, only the nodes ' +
      'within that many hops of the injections and ADWS connections. `truncated` says the event limit may have ' +
      'left events of the window out; `counts` gives the nodes and events reachable and shown.',
  })
  @ApiOkResponse(GRAPH_RESPONSE)
  @ApiBadRequestResponse(BAD_BOUNDS)
  @ApiNotFoundResponse({ description: 'The device has no injection or ADWS connection events' })
  async device(
    @Param('deviceId') deviceId: string,
    @Query() query: DeviceGraphQueryDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    return send(res, await this.graphs.deviceGraph(deviceId, query));
  }

  @Get('devices/:deviceId/processes/:processKey/graph')
  @ApiOperation({
    summary: 'The neighbourhood of one process: nodes within depth hops either way, at most limit of them',
    description:
      'processKey is a node key from a device or alert graph (URL-encoded). The neighbourhood is drawn in the device ' +
      "graph within from/to. `truncated` says the node limit (or the device graph's event limit) cut something " +
      'out; `counts` gives the nodes and events reachable and shown.',
  })
  @ApiOkResponse(GRAPH_RESPONSE)
  @ApiBadRequestResponse(BAD_BOUNDS)
  @ApiNotFoundResponse({ description: 'The device graph (within from/to) has no such process' })
  async process(
    @Param('deviceId') deviceId: string,
    @Param('processKey') processKey: string,
    @Query() query: ProcessGraphQueryDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    return send(res, await this.graphs.processGraph(deviceId, processKey, query));
  }

  @Get('alerts/:id/graph')
  @ApiOperation({
    summary: 'The paths behind one alert (injections, spawns, connections), with the evidence on every edge',
    description:
      "depth 0 (default) draws the alert's own paths, each edge with only the events the alert cites; depth n adds " +
      "the device graph within n hops of them, edges with all their events. At most `limit` nodes, the alert's " +
      'own first; `truncated` and `counts` say what was cut.',
  })
  @ApiOkResponse(GRAPH_RESPONSE)
  @ApiBadRequestResponse(BAD_BOUNDS)
  @ApiNotFoundResponse({
    description: 'No alert has this id, or a retracted alert names processes the stored events no longer identify',
  })
  async alert(@Param('id') id: string, @Query() query: AlertGraphQueryDto, @Res({ passthrough: true }) res: Response) {
    return send(res, await this.graphs.alertGraph(id, query));
  }
}

function send(res: Response, graph: RenderedGraph): unknown {
  res.type(graph.contentType);

  return graph.body;
}
