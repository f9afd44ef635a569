import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { EmptyAsAbsent, EnumField, IntField, IsoTimeField, TextField } from '../common/api-field.decorators.js';
import { RULE_MODES } from '../rules/rule.types.js';
import { SuppressionRecordDto } from '../suppressions/suppression.dto.js';
import { EdgeKind, EventTable, MAX_DEVICE_ID_LENGTH, NodeKind } from '../vocabulary/graph.vocabulary.js';
import { ALERT_CHANGE_TYPES } from './alert-change.js';
import {
  ALERT_CLASSIFICATIONS,
  ALERT_STATUSES,
  TRIAGE_STATUSES,
  type AlertClassification,
  type AlertStatus,
  type TriageStatus,
} from './alert.model.js';

export class AlertQueryDto {
  @EmptyAsAbsent()
  @TextField({ description: 'Only alerts of this DeviceId', maxLength: MAX_DEVICE_ID_LENGTH, optional: true })
  deviceId?: string;

  @EmptyAsAbsent()
  @EnumField({ description: 'Only alerts in this status', values: ALERT_STATUSES, optional: true })
  status?: AlertStatus;

  @EmptyAsAbsent()
  @IsoTimeField({ description: 'Only alerts whose timestamp is at or after this time', optional: true })
  from?: string;

  @EmptyAsAbsent()
  @IsoTimeField({ description: 'Only alerts whose timestamp is at or before this time', optional: true })
  to?: string;

  @EmptyAsAbsent()
  @IntField({ description: 'Page size (default 100)', min: 1, max: 1000, optional: true })
  limit?: number;

  @EmptyAsAbsent()
  @TextField({ description: 'nextCursor of the previous page', maxLength: 500, optional: true })
  cursor?: string;
}

export class AlertChangesQueryDto {
  @EmptyAsAbsent()
  @IntField({
    description: 'The last sequence number already seen (0, or absent, for the beginning)',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    optional: true,
  })
  after?: number;

  @EmptyAsAbsent()
  @IntField({ description: 'Most alerts in one reply (default 100)', min: 1, max: 1000, optional: true })
  limit?: number;
}

export class InjectorDto {
  @ApiProperty({ example: 6008 }) processId: number;
  @ApiProperty({ example: 'powershell.exe' }) fileName: string;
  @ApiProperty({ nullable: true, type: String, example: 'c:\\windows\\system32\\windowspowershell\\v1.0' })
  folderPath: string | null;
  @ApiProperty({ type: [String], example: ['CreateRemoteThreadApiCall'] }) actionTypes: string[];
  @ApiProperty({ format: 'date-time' }) firstSeen: string;
  @ApiProperty({ format: 'date-time' }) lastSeen: string;
}

export class ConnectionDto {
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ example: '10.0.0.10' }) remoteIp: string;
  @ApiProperty({ example: 9389 }) remotePort: number;
  @ApiProperty({ nullable: true, type: String }) localIp: string | null;
  @ApiProperty({ nullable: true, type: Number }) localPort: number | null;
}

export class TacticDto {
  @ApiProperty({ example: 'TA0007' }) id: string;
  @ApiProperty({ example: 'Discovery' }) name: string;
}

export class MitreDto {
  @ApiProperty({ example: 'T1087.002' }) techniqueId: string;
  @ApiProperty({ example: 'Account Discovery: Domain Account' }) techniqueName: string;
  @ApiProperty({ type: [TacticDto] }) tactics: TacticDto[];
}

export class EvidenceRefDto {
  @ApiProperty({ enum: Object.values(EventTable) }) table: string;
  @ApiProperty() deviceId: string;
  @ApiProperty({ description: 'r:<timestamp>:<ReportId>, or h:<sha256> for rows without a ReportId' }) eventKey: string;
}

export class PathNodeDto {
  @ApiProperty({ description: 'Graph node key' }) key: string;
  @ApiProperty({ enum: Object.values(NodeKind) }) kind: string;
  @ApiPropertyOptional({ description: 'Processes: pid' }) processId?: number;
  @ApiPropertyOptional({ description: "Processes: lower-cased image name ('' when no event names it)" })
  fileName?: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Processes: Sysmon ProcessGuid' })
  processGuid?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time', description: 'Processes: creation' })
  creationTime?: string | null;
  @ApiPropertyOptional({ description: 'The ADWS endpoint: remote address' }) remoteIp?: string;
  @ApiPropertyOptional({ description: 'The ADWS endpoint: remote port' }) remotePort?: number;
}

export class PathEdgeDto {
  @ApiProperty() key: string;
  @ApiProperty({ enum: Object.values(EdgeKind) }) kind: string;
  @ApiProperty({ description: 'Node key' }) source: string;
  @ApiProperty({ description: 'Node key' }) target: string;
  @ApiProperty({ format: 'date-time' }) firstSeen: string;
  @ApiProperty({ format: 'date-time' }) lastSeen: string;
  @ApiPropertyOptional({ type: [String], description: 'injected edges: the injection methods' }) methods?: string[];
  @ApiProperty({ type: [EvidenceRefDto], description: 'The stored events behind this edge that satisfy the rule' })
  evidence: EvidenceRefDto[];
}

export class AlertPathDto {
  @ApiProperty({ type: [PathNodeDto], description: 'From the first injector to the ADWS endpoint' })
  nodes: PathNodeDto[];
  @ApiProperty({ type: [PathEdgeDto], description: 'One fewer than the nodes, in path order' }) edges: PathEdgeDto[];
  @ApiProperty({ description: 'The connecting process descends from the last injected one (spawned edges)' })
  viaDescendant: boolean;
}

export class ExclusionReportDto {
  @ApiProperty() description: string;
  @ApiProperty({ description: "Injection events into the alert's processes this exclusion held back" })
  excludedEvents: number;
}

export class AlertDto {
  @ApiProperty({ format: 'uuid', description: 'Stable for the same rule, device, device name and target process' })
  id: string;
  @ApiProperty({ example: 'adws-connection-from-process-injection-target' }) ruleId: string;
  @ApiProperty({
    enum: ALERT_STATUSES,
    description:
      'triageStatus, unless the engine retracted the alert (retracted) or a suppression holds it back while it is ' +
      'still open (suppressed)',
  })
  status: string;
  @ApiProperty({ enum: TRIAGE_STATUSES, description: 'What analysts last set (new until someone does)' })
  triageStatus: string;
  @ApiProperty({ enum: ALERT_CLASSIFICATIONS, nullable: true, type: String }) classification: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Who works on the alert (free text)' })
  assignedTo: string | null;
  @ApiProperty({ example: 'high' }) severity: string;
  @ApiProperty() deviceId: string;
  @ApiProperty({ example: 'ws01.contoso.local' }) deviceName: string;
  @ApiProperty({ example: 'ws01' }) hostName: string;
  @ApiProperty({ example: 'contoso.local' }) dnsDomain: string;
  @ApiProperty({ format: 'date-time', description: 'Earliest matching ADWS connection (UTC, 7 fractional digits)' })
  timestamp: string;
  @ApiProperty({
    description: 'The process that connected: the injected one, or in graph mode the end of a chain or a descendant',
  })
  processId: number;
  @ApiProperty({ description: 'Its image name, lower-cased', example: 'notepad.exe' }) fileName: string;
  @ApiProperty({ type: [String], example: ['CreateRemoteThreadApiCall'] }) injectionMethods: string[];
  @ApiProperty({ type: [InjectorDto] }) injectors: InjectorDto[];
  @ApiProperty({ type: [ConnectionDto] }) connections: ConnectionDto[];
  @ApiProperty({ type: [MitreDto] }) mitre: MitreDto[];
  @ApiProperty({ type: [EvidenceRefDto], description: 'Every stored event behind the alert' })
  evidence: EvidenceRefDto[];
  @ApiProperty({ type: [String], description: 'Graph node keys on the alert paths' }) nodeKeys: string[];
  @ApiProperty({ enum: RULE_MODES, description: 'The rule mode that derived the alert' }) mode: string;
  @ApiProperty({
    type: AlertPathDto,
    nullable: true,
    description: 'The first of paths (earliest first injection); null only for alerts stored before paths existed',
  })
  path: AlertPathDto | null;
  @ApiProperty({ type: [AlertPathDto], description: 'Every path behind the alert' }) paths: AlertPathDto[];
  @ApiProperty({
    description: 'Graph mode: every path reaches the connection through a descendant of the injected process',
  })
  viaDescendant: boolean;
  @ApiProperty({
    type: [String],
    description: 'What the evidence lacks, e.g. an injector whose creation was never seen',
  })
  evidenceGaps: string[];
  @ApiProperty({ type: [ExclusionReportDto], description: 'The exclusions in force when the alert was derived' })
  exclusionsConsidered: ExclusionReportDto[];
  @ApiProperty({
    type: SuppressionRecordDto,
    nullable: true,
    description: 'The suppression holding the alert back (status suppressed), else null',
  })
  suppression: SuppressionRecordDto | null;
  @ApiProperty({
    description:
      'Bumped by every change: content (evidence, paths, exclusions considered), status or triage fields. The ' +
      'ETag of GET /alerts/{id} is this number in quotes; PATCH needs it in If-Match',
  })
  revision: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class AlertPageDto {
  @ApiProperty({ type: [AlertDto], description: 'Ordered by timestamp, then id (oldest first)' }) items: AlertDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end' })
  nextCursor: string | null;
}

export class RawEventDto {
  @ApiProperty({ enum: Object.values(EventTable) }) table: string;
  @ApiProperty() deviceId: string;
  @ApiProperty() eventKey: string;
  @ApiProperty({ format: 'date-time', description: 'Event time (UTC, 7 fractional digits)' }) timestamp: string;
  @ApiProperty({ description: 'The record as received', type: 'object', additionalProperties: true }) raw: unknown;
}

export class AlertEvidenceDto {
  @ApiProperty({ format: 'uuid' }) alertId: string;
  @ApiProperty({ type: [RawEventDto], description: "In the order of the alert's evidence list" })
  items: RawEventDto[];
}

export class AlertChangeDto {
  @ApiProperty({ description: "The change number of this alert's latest change; monotonic across all alerts" })
  sequence: number;
  @ApiProperty({ type: AlertDto, description: 'The alert as it is now' }) alert: AlertDto;
}

export class AlertChangesDto {
  @ApiProperty({ type: [AlertChangeDto], description: 'Alerts changed after `after`, each once, in change order' })
  items: AlertChangeDto[];
  @ApiProperty({ description: 'Pass as `after` in the next poll (equals `after` when nothing changed)' })
  lastSequence: number;
}

export class AlertTriageDto {
  @EnumField({ description: 'The triage status to set', values: TRIAGE_STATUSES, optional: true })
  status?: TriageStatus;

  @EnumField({
    description: 'What the alert turned out to be; null clears it',
    values: ALERT_CLASSIFICATIONS,
    optional: true,
  })
  classification?: AlertClassification | null;

  @TextField({
    description: 'Who works on it (an analyst, a queue); null clears it',
    minLength: 1,
    maxLength: 200,
    optional: true,
    nullable: true,
  })
  assignedTo?: string | null;

  @TextField({
    description: 'A note kept in the alert history with this change',
    minLength: 1,
    maxLength: 4000,
    optional: true,
  })
  comment?: string;
}

export class AlertHistoryQueryDto {
  @EmptyAsAbsent()
  @IntField({
    description: 'Changes after this sequence number (default 0)',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    optional: true,
  })
  after?: number;

  @EmptyAsAbsent()
  @IntField({ description: 'Most changes in one reply (default 100)', min: 1, max: 1000, optional: true })
  limit?: number;
}

export class FieldChangeDto {
  @ApiProperty({ description: 'The value before', nullable: true }) from: unknown;
  @ApiProperty({ description: 'The value after', nullable: true }) to: unknown;
}

export class AlertHistoryEntryDto {
  @ApiProperty({ description: 'The change feed sequence number of this change' }) sequence: number;
  @ApiProperty({ format: 'uuid' }) alertId: string;
  @ApiProperty({ description: 'The alert revision this change produced' }) revision: number;
  @ApiProperty({ format: 'date-time' }) changedAt: string;
  @ApiProperty({ description: 'The API key name of an analyst change, or `detection` for the engine' }) actor: string;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: "The API key id of an analyst change; null for the engine's and with auth off",
  })
  actorKeyId: string | null;
  @ApiProperty({
    enum: ALERT_CHANGE_TYPES,
    nullable: true,
    type: String,
    description: 'null for changes recorded before the audit trail existed',
  })
  type: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/FieldChangeDto' },
    description: 'Changed fields (status, triageStatus, classification, assignedTo); empty for content changes',
  })
  changes: Record<string, FieldChangeDto>;
  @ApiProperty({ nullable: true, type: String, description: "The analyst's comment, or the engine's reason" })
  comment: string | null;
}

export class AlertHistoryDto {
  @ApiProperty({ type: [AlertHistoryEntryDto], description: 'Oldest first' }) items: AlertHistoryEntryDto[];
  @ApiProperty({ description: 'Pass as `after` for the next page' }) lastSequence: number;
}
