/**
 * The SQL of the event repository, as named constants. Vocabulary values (the injection action types and
 * the connection action type) are written into the text as literals, not parameters, so the planner can
 * match the partial indexes of migrations/0001_events.sql; the predicates here must stay identical to
 * theirs (a test checks that the indexes are usable).
 */
import {
  ADWS_CONNECTION_ACTION_TYPE,
  HOST_DEVICE_PREFIX,
  INJECTION_ACTION_TYPES,
} from '../vocabulary/graph.vocabulary.js';
import { DEVICE_EVENTS, DEVICE_NETWORK_EVENTS, type EventTableSpec } from './event.tables.js';
import type { CanonicalEvent } from '../ingest/event.types.js';

const CONSTANT_WORD = /^[A-Za-z]+$/;

function wordLiteral(word: string): string {
  if (!CONSTANT_WORD.test(word)) throw new Error(`"${word}" cannot be written as a SQL literal here`);

  return `'${word}'`;
}

const INJECTION_TYPES = INJECTION_ACTION_TYPES.map((t) => wordLiteral(t.toLowerCase())).join(', ');
const CONNECTION_SUCCESS = wordLiteral(ADWS_CONNECTION_ACTION_TYPE);

function isInjection(alias: string): string {
  return `lower(${alias}.action_type) IN (${INJECTION_TYPES})`;
}

function isAdwsConnection(alias: string, portsParam: string): string {
  return `${alias}.action_type = ${CONNECTION_SUCCESS} AND ${alias}.remote_port = ANY(${portsParam}::int[])`;
}

/** Rows whose canonical time text is within [from, to]; a NULL bound is open. Shared with the Sysmon queries. */
export function withinWindow(alias: string, fromParam: string, toParam: string): string {
  return (
    `(${fromParam}::text IS NULL OR ${alias}.timestamp_text >= ${fromParam}) AND ` +
    `(${toParam}::text IS NULL OR ${alias}.timestamp_text <= ${toParam})`
  );
}

function selectList(spec: EventTableSpec<CanonicalEvent>, alias: string): string {
  return spec.readColumns.map((column) => `${alias}.${column}`).join(', ');
}

const DE = DEVICE_EVENTS as unknown as EventTableSpec<CanonicalEvent>;
const DNE = DEVICE_NETWORK_EVENTS as unknown as EventTableSpec<CanonicalEvent>;

/** $1 device ids, $2 ADWS ports. */
export const SELECT_CORRELATION_CONNECTIONS = `
SELECT ${selectList(DNE, 'n')}
FROM device_network_events n
WHERE n.device_id = ANY($1::text[]) AND ${isAdwsConnection('n', '$2')}
ORDER BY n.device_id, n."timestamp", n.event_key`;

/** $1 device ids, $2 ADWS ports: injections whose target process made one of those connections. */
export const SELECT_CORRELATION_INJECTIONS = `
SELECT ${selectList(DE, 'e')}
FROM device_events e
WHERE e.device_id = ANY($1::text[]) AND ${isInjection('e')} AND e.file_name <> ''
  AND EXISTS (
    SELECT 1 FROM device_network_events n
    WHERE n.device_id = e.device_id
      AND n.initiating_process_id = e.process_id
      AND lower(n.initiating_process_file_name) = lower(e.file_name)
      AND ${isAdwsConnection('n', '$2')}
  )
ORDER BY e.device_id, e."timestamp", e.event_key`;

/** $1 device id, $2 row limit, $3/$4 window (canonical text or NULL). */
export const SELECT_DEVICE_INJECTIONS = `
SELECT ${selectList(DE, 'e')}
FROM device_events e
WHERE e.device_id = $1 AND ${isInjection('e')} AND ${withinWindow('e', '$3', '$4')}
ORDER BY e."timestamp" DESC, e.event_key DESC
LIMIT $2`;

/** $1 device id, $2 ADWS ports, $3 row limit, $4/$5 window (canonical text or NULL). */
export const SELECT_DEVICE_CONNECTIONS = `
SELECT ${selectList(DNE, 'n')}
FROM device_network_events n
WHERE n.device_id = $1 AND ${isAdwsConnection('n', '$2')} AND ${withinWindow('n', '$4', '$5')}
ORDER BY n."timestamp" DESC, n.event_key DESC
LIMIT $3`;

/** $1 ADWS ports. */
export const SELECT_DEVICES_WITH_ADWS = `
SELECT DISTINCT n.device_id
FROM device_network_events n
WHERE ${isAdwsConnection('n', '$1')}
ORDER BY n.device_id`;

/** $1 device ids, $2 event keys (pairwise). */
export function selectRawEvents(sqlTable: string): string {
  return `
SELECT t.device_id, t.event_key, t.timestamp_text, t.raw::text AS raw
FROM ${sqlTable} t
JOIN unnest($1::text[], $2::text[]) AS ref(device_id, event_key)
  ON ref.device_id = t.device_id AND ref.event_key = t.event_key`;
}

export function stagingTableOf(spec: EventTableSpec<CanonicalEvent>): string {
  return `${spec.sqlTable}_staging`;
}

/** A session-private copy of the table's shape plus the row's position in the batch; gone at commit. */
export function createStagingTable(spec: EventTableSpec<CanonicalEvent>): string {
  return `CREATE TEMP TABLE ${stagingTableOf(spec)} ON COMMIT DROP AS
SELECT 0::int AS ord, * FROM ${spec.sqlTable} WITH NO DATA`;
}

/** Moves staged rows in batch order, skipping stored keys; returns what was new. */
export function insertFromStaging(spec: EventTableSpec<CanonicalEvent>): string {
  const columns = spec.columns.map((c) => `"${c}"`).join(', ');

  return `INSERT INTO ${spec.sqlTable} (${columns})
SELECT ${columns} FROM ${stagingTableOf(spec)} ORDER BY ord
ON CONFLICT (device_id, event_key) DO NOTHING
RETURNING device_id, action_type`;
}

/**
 * $1 device ids, $2 lower-cased names (pairs sorted). Returns the devices that gained a name a Sysmon host already
 * has events under: that host's events now join the device's graph.
 */
export const INSERT_DEVICE_NAMES = `
WITH added AS (
  INSERT INTO device_names (device_id, name_lower)
  SELECT * FROM unnest($1::text[], $2::text[])
  ON CONFLICT DO NOTHING
  RETURNING device_id, name_lower
)
SELECT DISTINCT a.device_id FROM added a
WHERE EXISTS (SELECT 1 FROM sysmon_events s WHERE s.device_id = '${HOST_DEVICE_PREFIX}' || a.name_lower)`;

/** $1 device ids, $2 pids (pairs): injections into those processes, whatever their connections. */
export const SELECT_INJECTIONS_INTO = `
SELECT ${selectList(DE, 'e')}
FROM unnest($1::text[], $2::bigint[]) AS p(device_id, process_id)
JOIN device_events e ON e.device_id = p.device_id AND e.process_id = p.process_id
WHERE ${isInjection('e')} AND e.file_name <> ''
ORDER BY e.device_id, e."timestamp", e.event_key`;
