import { ApiProperty } from '@nestjs/swagger';

export class RecordErrorDto {
  @ApiProperty({ description: '0-based position of the record in the body (row, array element or line)', example: 17 })
  record: number;

  @ApiProperty({
    description: 'Field at fault, or null when the record as a whole is',
    nullable: true,
    type: String,
    example: 'DeviceId',
  })
  field: string | null;

  @ApiProperty({ example: 'DeviceId is required' })
  message: string;
}

export class IngestReportDto {
  @ApiProperty({ description: 'Records read from the body' })
  received: number;

  @ApiProperty({ description: 'Events stored for the first time' })
  inserted: number;

  @ApiProperty({ description: 'Events already stored (or repeated in this body); nothing changed for them' })
  duplicates: number;

  @ApiProperty({ description: 'Records of tables, categories, channels or event ids this service does not ingest' })
  skipped: number;

  @ApiProperty({ description: 'Records refused; the first 1000 are listed in errors' })
  rejected: number;

  @ApiProperty({ type: [RecordErrorDto] })
  errors: RecordErrorDto[];
}

/** Media types every ingest route reads; gzip is accepted as Content-Encoding on all of them. */
export const INGEST_MEDIA_TYPES = ['application/json', 'application/x-ndjson', 'text/csv'];

export const INGEST_BODY_DESCRIPTION =
  'A JSON array of rows, NDJSON (one row or streaming-API record per line), an Advanced Hunting API response ' +
  '({"Schema":[...],"Results":[...]}), a streaming-API payload ({"records":[...]}) or a Defender portal CSV export. ' +
  'Send Content-Encoding: gzip for compressed bodies. The body is streamed and stored in batches.';

/** Media types of the Sysmon route; gzip is accepted as Content-Encoding. */
export const SYSMON_MEDIA_TYPES = ['application/json', 'application/x-ndjson', 'application/xml', 'text/xml'];

export const SYSMON_BODY_DESCRIPTION =
  'Sysmon events: a JSON array or NDJSON of flat shipper events ({"EventID":8,"Hostname":...,"UtcTime":...}) or ' +
  'Winlogbeat/ECS documents ({"winlog":{"event_id":8,"event_data":{...}},"host":{"name":...}}), or Windows event ' +
  'XML (<Event> elements, one or many, optionally inside <Events>). Send Content-Encoding: gzip for compressed ' +
  'bodies. The body is streamed and stored in batches.';
