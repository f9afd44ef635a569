import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { DomainError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { DetectionService } from '../detection/detection.service.js';
import { EventTable } from '../vocabulary/graph.vocabulary.js';
import type { CanonicalEvent, IngestReport, MapResult } from './event.types.js';
import { EventRepository } from './event.repository.js';
import { mapEventsRecord, mapTableRecord } from './mappers/mde.mapper.js';
import { mapSysmonRecord } from './mappers/sysmon.mapper.js';
import { bodyFormatOf, openBody, type BodyFormat } from './readers/body.reader.js';
import { readRecords } from './readers/record.reader.js';
import type { SourceRecord } from './readers/record.types.js';

/** Where a body was posted: one Defender table, the mixed Defender route, or the Sysmon route. */
export type IngestRoute = typeof EventTable.DeviceEvents | typeof EventTable.DeviceNetworkEvents | 'mixed' | 'sysmon';

export interface IngestRequest {
  route: IngestRoute;
  body: AsyncIterable<Buffer>;
  contentType: string | undefined;
  contentEncoding: string | undefined;
}

/** What the Defender routes read; XML is for Windows event exports, which they do not take. */
const DEFENDER_FORMATS: readonly BodyFormat[] = ['json', 'ndjson', 'csv'];
/** What the Sysmon route reads: shipper JSON (flat or ECS) and Windows event XML; Sysmon has no CSV export. */
const SYSMON_FORMATS: readonly BodyFormat[] = ['json', 'ndjson', 'xml'];

/** Record errors listed in one reply; `rejected` always counts them all. */
const MAX_LISTED_ERRORS = 1000;

/**
 * Streams a body through reader → mapper → batch writer, one batch in flight while the next is parsed,
 * then runs detection for the devices whose new events can change an alert.
 */
@Injectable()
export class IngestService {
  private readonly logger = JsonLogger.for(IngestService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EventRepository) private readonly events: EventRepository,
    @Inject(DetectionService) private readonly detection: DetectionService,
  ) {}

  async ingest(request: IngestRequest): Promise<IngestReport> {
    const started = performance.now();
    const format = bodyFormatOf(request.contentType, request.route === 'sysmon' ? SYSMON_FORMATS : DEFENDER_FORMATS);

    const report: IngestReport = { received: 0, inserted: 0, duplicates: 0, skipped: 0, rejected: 0, errors: [] };
    const touched = new Set<string>();
    try {
      await this.stream(request, format, report, touched);
    } catch (error) {
      await this.detectAfterFailure(touched);
      throw withAcceptedCounts(error, report);
    }

    const detection = await this.detection.detectDevices([...touched]);
    this.logger.info('ingest finished', {
      route: request.route,
      format,
      ...countsOf(report),
      devicesDetected: detection.devices,
      alertsCreated: detection.created,
      alertsUpdated: detection.updated,
      detectionMs: detection.durationMs,
      durationMs: Math.round(performance.now() - started),
    });
    return report;
  }

  private async stream(request: IngestRequest, format: BodyFormat, report: IngestReport, touched: Set<string>) {
    const body = openBody(request.body, {
      contentEncoding: request.contentEncoding,
      maxBytes: this.config.ingestMaxBytes,
    });
    const receivedAt = new Date().toISOString();
    const writes: Promise<void>[] = [];
    let writeError: unknown = null;
    const options = { batchSize: this.config.ingestBatchSize, maxRecordBytes: this.config.ingestMaxRecordBytes };
    try {
      for await (const records of readRecords(body, format, options)) {
        if (writeError !== null) break;
        const batch = this.mapBatch(request.route, records, report);
        if (writes.length >= this.config.ingestWriteConcurrency) await writes.shift();
        // A rejection is kept, not left unhandled, while the loop waits on the body; it ends the ingest below.
        writes.push(
          this.write(batch, receivedAt, report, touched).catch((error: unknown) => void (writeError ??= error)),
        );
      }
    } finally {
      await Promise.all(writes);
    }
    if (writeError !== null) throw writeError;
  }

  /** Stored batches of a failed ingest are still correlated; if that fails too, the pending marks retry it. */
  private async detectAfterFailure(touched: Set<string>): Promise<void> {
    try {
      await this.detection.detectDevices([...touched]);
    } catch (error) {
      this.logger.failure('detection after a failed ingest failed; devices stay pending', {
        deviceCount: touched.size,
        error,
      });
    }
  }

  private mapBatch(route: IngestRoute, records: SourceRecord[], report: IngestReport): CanonicalEvent[] {
    const batch: CanonicalEvent[] = [];
    for (const record of records) {
      report.received++;
      const result = mapFor(route, record);
      if (result.kind === 'event') batch.push(result.event);
      else if (result.kind === 'skipped') report.skipped++;
      else {
        report.rejected++;
        if (report.errors.length < MAX_LISTED_ERRORS) report.errors.push(result.error);
      }
    }

    return batch;
  }

  private async write(batch: CanonicalEvent[], receivedAt: string, report: IngestReport, touched: Set<string>) {
    if (batch.length === 0) return;

    const outcome = await this.events.insertEvents(batch, receivedAt);
    report.inserted += outcome.inserted;
    report.duplicates += outcome.duplicates;
    for (const deviceId of outcome.touchedDevices) touched.add(deviceId);
  }
}

function mapFor(route: IngestRoute, record: SourceRecord): MapResult {
  if (route === 'sysmon') return mapSysmonRecord(record);

  return route === 'mixed' ? mapEventsRecord(record) : mapTableRecord(record, route);
}

function countsOf(report: IngestReport) {
  const { errors: _errors, ...counts } = report;

  return counts;
}

/** A body that fails part-way keeps what was stored before the failure; the error says how much that was. */
function withAcceptedCounts(error: unknown, report: IngestReport): unknown {
  if (!(error instanceof DomainError)) return error;

  const details = { ...(error.details ?? {}), acceptedBeforeError: countsOf(report) };
  const Constructor = error.constructor as new (message: string, details: Record<string, unknown>) => DomainError;
  return new Constructor(error.message, details);
}
