/**
 * The SQL of the Sysmon event repository. Predicates match the partial indexes of
 * migrations/0004_sysmon_events.sql; keep them identical.
 */
import type { CanonicalEvent } from '../ingest/event.types.js';
import { withinWindow } from './event.queries.js';
import { SYSMON_EVENTS, type EventTableSpec } from './event.tables.js';

const SPEC = SYSMON_EVENTS as unknown as EventTableSpec<CanonicalEvent>;
const COLUMNS = SPEC.readColumns.map((column) => `s.${column}`).join(', ');

/** $1 host device ids, $2 ADWS ports: outbound connections to those ports. */
export const SELECT_SYSMON_CONNECTIONS = `
SELECT ${COLUMNS}
FROM sysmon_events s
WHERE s.destination_port = ANY($2::int[]) AND s.device_id = ANY($1::text[]) AND s.event_id = 3 AND s.initiated
ORDER BY s.device_id, s."timestamp", s.event_key`;

/** $1 device ids, $2 pids (pairs): remote threads (event 8) created in those processes. */
export const SELECT_SYSMON_THREADS_INTO = `
SELECT ${COLUMNS}
FROM unnest($1::text[], $2::bigint[]) AS p(device_id, process_id)
JOIN sysmon_events s
  ON s.device_id = p.device_id AND s.target_process_id = p.process_id AND s.event_id IN (8, 10)
WHERE s.event_id = 8
ORDER BY s.device_id, s."timestamp", s.event_key`;

/** $1 device ids, $2 GUIDs (pairs): remote threads (event 8) created in those processes, pid or not. */
export const SELECT_SYSMON_THREADS_INTO_GUIDS = `
SELECT ${COLUMNS}
FROM unnest($1::text[], $2::text[]) AS p(device_id, guid)
JOIN sysmon_events s
  ON s.device_id = p.device_id AND s.target_process_guid = p.guid AND s.event_id IN (8, 10)
WHERE s.event_id = 8
ORDER BY s.device_id, s."timestamp", s.event_key`;

/** $1 device ids, $2 pids (pairs): process creations (event 1) with those pids. */
export const SELECT_SYSMON_CREATES_OF = `
SELECT ${COLUMNS}
FROM unnest($1::text[], $2::bigint[]) AS p(device_id, process_id)
JOIN sysmon_events s ON s.device_id = p.device_id AND s.process_id = p.process_id AND s.event_id = 1
ORDER BY s.device_id, s."timestamp", s.event_key`;

/** $1 ADWS ports: hosts with an outbound connection to one of them. */
export const SELECT_SYSMON_HOSTS_WITH_ADWS = `
SELECT DISTINCT s.device_id
FROM sysmon_events s
WHERE s.destination_port = ANY($1::int[]) AND s.event_id = 3 AND s.initiated
ORDER BY s.device_id`;

/**
 * $1 host device ids, $2 ADWS ports, $3 row limit, $4/$5 window (canonical text or NULL): what a host's drawn graph
 * shows, newest first.
 */
export const SELECT_SYSMON_GRAPH_EVENTS = `
SELECT ${COLUMNS}
FROM sysmon_events s
WHERE s.device_id = ANY($1::text[])
  AND (s.event_id IN (8, 10) OR (s.event_id = 3 AND s.initiated AND s.destination_port = ANY($2::int[])))
  AND ${withinWindow('s', '$4', '$5')}
ORDER BY s."timestamp" DESC, s.event_key DESC
LIMIT $3`;
