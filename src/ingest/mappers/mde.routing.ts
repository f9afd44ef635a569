/**
 * Which advanced-hunting table a record comes from, for the routes that do not say: streaming-API categories
 * and rows of a portal `union` export. All action type → table knowledge lives here.
 */
import { EventTable } from '../../vocabulary/graph.vocabulary.js';
import { isAbsent, type Row } from './normalize.js';

/** Columns that name the source table of a row in a union export (Sentinel adds `Type`). */
export const TABLE_NAME_COLUMNS = ['Type', 'TableName', '$table', 'SourceTable'] as const;

/** Advanced-hunting tables this engine does not store; a row routed to one of them is skipped. */
export const NOT_INGESTED_TABLES = [
  'DeviceProcessEvents',
  'DeviceFileEvents',
  'DeviceRegistryEvents',
  'DeviceLogonEvents',
  'DeviceImageLoadEvents',
  'DeviceInfo',
  'DeviceNetworkInfo',
  'DeviceFileCertificateInfo',
  'IdentityDirectoryEvents',
  'IdentityLogonEvents',
  'IdentityQueryEvents',
  'IdentityInfo',
  'CloudAppEvents',
  'EmailEvents',
  'EmailAttachmentInfo',
  'EmailUrlInfo',
  'EmailPostDeliveryEvents',
  'UrlClickEvents',
  'AlertInfo',
  'AlertEvidence',
  'BehaviorInfo',
  'BehaviorEntities',
] as const;

/**
 * Action types whose table is known with confidence, for union exports without a table column. An action type
 * that is not listed (and does not end in `ConnectionInspected`) is taken as a DeviceEvents row.
 */
export const ACTION_TYPE_TABLES: Readonly<Record<string, string>> = {
  ConnectionSuccess: EventTable.DeviceNetworkEvents,
  ConnectionFailed: EventTable.DeviceNetworkEvents,
  ConnectionAttempt: EventTable.DeviceNetworkEvents,
  ConnectionRequest: EventTable.DeviceNetworkEvents,
  ConnectionFound: EventTable.DeviceNetworkEvents,
  ConnectionAcknowledged: EventTable.DeviceNetworkEvents,
  InboundConnectionAccepted: EventTable.DeviceNetworkEvents,
  ListeningConnectionCreated: EventTable.DeviceNetworkEvents,
  NetworkSignatureInspected: EventTable.DeviceNetworkEvents,
  NtlmAuthenticationInspected: EventTable.DeviceNetworkEvents,
  InboundInternetScanInspected: EventTable.DeviceNetworkEvents,
  ProcessCreated: 'DeviceProcessEvents',
  FileCreated: 'DeviceFileEvents',
  FileModified: 'DeviceFileEvents',
  FileDeleted: 'DeviceFileEvents',
  FileRenamed: 'DeviceFileEvents',
  RegistryKeyCreated: 'DeviceRegistryEvents',
  RegistryKeyDeleted: 'DeviceRegistryEvents',
  RegistryKeyRenamed: 'DeviceRegistryEvents',
  RegistryValueSet: 'DeviceRegistryEvents',
  RegistryValueDeleted: 'DeviceRegistryEvents',
  LogonSuccess: 'DeviceLogonEvents',
  LogonFailed: 'DeviceLogonEvents',
  LogonAttempted: 'DeviceLogonEvents',
  ImageLoaded: 'DeviceImageLoadEvents',
  'Directory Services replication': 'IdentityDirectoryEvents',
  MailItemsAccessed: 'CloudAppEvents',
};

/** Action types ending like this are DeviceNetworkEvents protocol inspections (Dns, Http, Ssl, Icmp, Smtp...). */
export const NETWORK_INSPECTION_SUFFIX = 'connectioninspected';

/** Where a union row goes: an ingested table, or nowhere with the reason. */
export type UnionRoute = { table: EventTable; reason?: undefined } | { table: null; reason: string };

const STREAMING_CATEGORY_PREFIX = 'advancedhunting-';
const INGESTED_TABLES: readonly EventTable[] = [EventTable.DeviceEvents, EventTable.DeviceNetworkEvents];
const TABLES_BY_LOWER = new Map<string, string>(
  [...INGESTED_TABLES, ...NOT_INGESTED_TABLES].map((table) => [table.toLowerCase(), table]),
);
const ACTION_TABLES_BY_LOWER = new Map<string, string>(
  Object.entries(ACTION_TYPE_TABLES).map(([actionType, table]) => [actionType.toLowerCase(), table]),
);
const IDENTITY_OR_CLOUD_REASON =
  'rows without DeviceId that carry an Application column (identity or cloud-app tables) are not ingested';

/** The ingested table of a streaming category (`AdvancedHunting-DeviceEvents`, any case), else null. */
export function mdeTableName(category: string): EventTable | null {
  const lower = category.toLowerCase();
  if (!lower.startsWith(STREAMING_CATEGORY_PREFIX)) return null;

  return asIngestedTable(TABLES_BY_LOWER.get(lower.slice(STREAMING_CATEGORY_PREFIX.length)));
}

/**
 * A table column naming a known table wins; else a known action type; else a row without DeviceId but with
 * an Application column is an identity / cloud-app row; anything else is taken as DeviceEvents.
 */
export function routeUnionRow(row: Row): UnionRoute {
  const table = tableFromColumn(row) ?? tableFromActionType(row.ActionType);
  if (table !== undefined) return routeTo(table);
  if (isAbsent(row.DeviceId) && !isAbsent(row.Application)) return { table: null, reason: IDENTITY_OR_CLOUD_REASON };

  return { table: EventTable.DeviceEvents };
}

/** The table an action type belongs to when known (compared without case), else undefined. */
export function tableFromActionType(actionType: unknown): string | undefined {
  if (typeof actionType !== 'string') return undefined;
  const lower = actionType.toLowerCase();
  const known = ACTION_TABLES_BY_LOWER.get(lower);
  if (known !== undefined) return known;

  return lower.endsWith(NETWORK_INSPECTION_SUFFIX) ? EventTable.DeviceNetworkEvents : undefined;
}

function tableFromColumn(row: Row): string | undefined {
  for (const column of TABLE_NAME_COLUMNS) {
    const value = row[column];
    const table = typeof value === 'string' ? TABLES_BY_LOWER.get(value.toLowerCase()) : undefined;
    if (table !== undefined) return table;
  }

  return undefined;
}

function routeTo(table: string): UnionRoute {
  const ingested = asIngestedTable(table);

  return ingested === null ? { table: null, reason: `${table} rows are not ingested` } : { table: ingested };
}

function asIngestedTable(table: string | undefined): EventTable | null {
  return INGESTED_TABLES.find((ingested) => ingested === table) ?? null;
}
