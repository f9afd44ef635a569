import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';

import { EventTable } from '../vocabulary/graph.vocabulary.js';
import {
  INGEST_BODY_DESCRIPTION,
  INGEST_MEDIA_TYPES,
  IngestReportDto,
  SYSMON_BODY_DESCRIPTION,
  SYSMON_MEDIA_TYPES,
} from './ingest.dto.js';
import { IngestService, type IngestRoute } from './ingest.service.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';

const bodyDoc = { description: INGEST_BODY_DESCRIPTION, schema: { type: 'string', format: 'binary' } } as const;

@ApiTags('ingest')
@RequireScope(Scope.Ingest)
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

  @Post('sysmon')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Ingest Sysmon events',
    description:
      'Sysmon events 1, 3, 5, 8 and 10 as flat JSON (NXLog-style shippers: EventID, Hostname, UtcTime, ...), ' +
      'Winlogbeat/ECS documents (winlog.event_id, winlog.event_data.*, host.name), each as a JSON array, NDJSON ' +
      'or one object, or Windows event XML (one or many <Event> elements, with or without an <Events> root, as ' +
      'exported from an EVTX file). Other event ids and channels are counted as skipped. The device of an event ' +
      'is its host name: `host:` + the lower-cased name.',
  })
  @ApiConsumes(...SYSMON_MEDIA_TYPES)
  @ApiBody({ description: SYSMON_BODY_DESCRIPTION, schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: IngestReportDto })
  sysmon(@Req() req: Request): Promise<IngestReportDto> {
    return this.ingest.ingest(requestOf('sysmon', req));
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
