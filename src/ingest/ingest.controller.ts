import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';

import { EventTable } from '../vocabulary/graph.vocabulary.js';
import { INGEST_BODY_DESCRIPTION, INGEST_MEDIA_TYPES, IngestReportDto } from './ingest.dto.js';
import { IngestService, type IngestRoute } from './ingest.service.js';

const bodyDoc = { description: INGEST_BODY_DESCRIPTION, schema: { type: 'string', format: 'binary' } } as const;

@ApiTags('ingest')
@Controller('api/v1/events')
export class IngestController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @Post('DeviceEvents')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ingest Defender DeviceEvents rows' })
  @ApiConsumes(...INGEST_MEDIA_TYPES)
  @ApiBody(bodyDoc)
  @ApiOkResponse({ type: IngestReportDto })
  deviceEvents(@Req() req: Request): Promise<IngestReportDto> {
    return this.ingest.ingest(requestOf(EventTable.DeviceEvents, req));
  }

  @Post('DeviceNetworkEvents')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ingest Defender DeviceNetworkEvents rows' })
  @ApiConsumes(...INGEST_MEDIA_TYPES)
  @ApiBody(bodyDoc)
  @ApiOkResponse({ type: IngestReportDto })
  deviceNetworkEvents(@Req() req: Request): Promise<IngestReportDto> {
    return this.ingest.ingest(requestOf(EventTable.DeviceNetworkEvents, req));
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Ingest streaming-API records or a mixed-table export',
    description:
      'Streaming-API records are routed by category (other categories are counted as skipped); plain rows of a ' +
      'union export are routed by ActionType.',
  })
  @ApiConsumes(...INGEST_MEDIA_TYPES)
  @ApiBody(bodyDoc)
  @ApiOkResponse({ type: IngestReportDto })
  mixed(@Req() req: Request): Promise<IngestReportDto> {
    return this.ingest.ingest(requestOf('mixed', req));
  }
}

function requestOf(route: IngestRoute, req: Request) {
  return { route, body: req, contentType: req.header('content-type'), contentEncoding: req.header('content-encoding') };
}
