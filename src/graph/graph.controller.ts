import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { GraphQueryDto, ProcessGraphQueryDto } from './graph.dto.js';
import { GraphService, type RenderedGraph } from './graph.service.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';

const GRAPH_RESPONSE = {
  description:
    "json: graphology's serialised graph; cytoscape: Cytoscape.js elements; gexf: GEXF 1.3 XML; graphml: GraphML XML",
  content: {
    'application/json': { schema: { type: 'object', additionalProperties: true } },
    'application/gexf+xml': { schema: { type: 'string' } },
    'application/graphml+xml': { schema: { type: 'string' } },
  },
};

@ApiTags('graph')
@RequireScope(Scope.Read)
@Controller('api/v1')
export class GraphController {
  constructor(@Inject(GraphService) private readonly graphs: GraphService) {}

  @Get('devices/:deviceId/graph')
  @ApiOperation({ summary: "A device's process graph: injections between processes and connections to ADWS endpoints" })
  @ApiOkResponse(GRAPH_RESPONSE)
  @ApiNotFoundResponse({ description: 'The device has no injection or ADWS connection events' })
  async device(
    @Param('deviceId') deviceId: string,
    @Query() query: GraphQueryDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    return send(res, await this.graphs.deviceGraph(deviceId, query.format, query.limit));
  }

  @Get('devices/:deviceId/processes/:processKey/graph')
  @ApiOperation({
    summary: 'The neighbourhood of one process: nodes within depth hops either way, at most limit of them',
    description:
      'processKey is a node key from a device or alert graph (URL-encoded). The graph attributes say `truncated` ' +
      'and give `counts` (reachable and shown nodes) when the limit cut nodes out.',
  })
  @ApiOkResponse(GRAPH_RESPONSE)
  @ApiNotFoundResponse({ description: 'The device graph has no such process' })
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
  })
  @ApiOkResponse(GRAPH_RESPONSE)
  @ApiNotFoundResponse({
    description: 'No alert has this id, or a retracted alert names processes the stored events no longer identify',
  })
  async alert(@Param('id') id: string, @Query() query: GraphQueryDto, @Res({ passthrough: true }) res: Response) {
    return send(res, await this.graphs.alertGraph(id, query.format));
  }
}

function send(res: Response, graph: RenderedGraph): unknown {
  res.type(graph.contentType);

  return graph.body;
}
