import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';

import { DATABASE, type Database, type Queryable } from '../database/database.js';
import type { AlertCandidate } from '../detection/alert.types.js';
import { InvalidInputError, NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { canonicalTimestamp } from '../ingest/mappers/normalize.js';
import { alertId, UUID_PATTERN } from './alert-id.js';
import { ADWS_RULE_MITRE, ADWS_RULE_SEVERITY, AlertStatus, type Alert } from './alert.model.js';
import { canonicalDeviceId } from '../vocabulary/graph.vocabulary.js';
import { suppressionFor, type Suppression, type SuppressionRecord } from '../suppressions/suppression.types.js';
import {
  AlertRepository,
  connectionKeysOf,
  type AlertRow,
  type AlertSearch,
  type AlertState,
} from './alert.repository.js';

export interface AlertQuery {
  deviceId?: string;
  status?: AlertStatus;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

export interface AlertPage {
  items: Alert[];
  nextCursor: string | null;
}

export interface ReconcileOutcome {
  created: number;
  updated: number;
  retracted: number;
}

/** Alert identity, change detection and lifecycle; the detector only proposes candidates. */
@Injectable()
export class AlertService {
  private readonly logger = JsonLogger.for(AlertService.name);

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(AlertRepository) private readonly alerts: AlertRepository,
  ) {}

  /**
   * Make the stored alerts of `deviceIds` equal what the detector derived for them now: new candidates
   * are created, changed ones get a new revision, and alerts whose evidence no longer holds are retracted.
   */
  async reconcile(
    ruleId: string,
    deviceIds: string[],
    candidates: AlertCandidate[],
    now: string,
    suppressions: readonly Suppression[] = [],
  ): Promise<ReconcileOutcome> {
    const outcome: ReconcileOutcome = { created: 0, updated: 0, retracted: 0 };
    if (deviceIds.length === 0) return outcome;

    await this.db.transaction(async (tx) => {
      const states = new Map((await this.alerts.getStates(tx, ruleId, deviceIds)).map((s) => [s.id, s]));
      const derived = await this.upsertChanged(tx, candidates, states, now, outcome, suppressions);
      await this.retractUnderived(tx, states, derived, now, outcome);
    });

    if (outcome.created + outcome.updated + outcome.retracted > 0) {
      this.logger.info('alerts reconciled', { ruleId, deviceCount: deviceIds.length, ...outcome });
    }
    return outcome;
  }

  /** Writes the candidates that are new or whose evidence changed; returns the ids of all candidates. */
  private async upsertChanged(
    tx: Queryable,
    candidates: AlertCandidate[],
    states: Map<string, AlertState>,
    now: string,
    outcome: ReconcileOutcome,
    suppressions: readonly Suppression[],
  ): Promise<Set<string>> {
    const derived = new Set<string>();
    const byConnection = statesByConnection(states);
    for (const candidate of candidates) {
      const id = identify(candidate, states, byConnection, derived);
      const row = this.toRow(id, candidate, suppressionFor(candidate, suppressions), states, now);
      derived.add(row.id);
      const before = states.get(row.id);
      if (before && before.contentHash === row.contentHash && before.status === row.status) continue;

      await this.alerts.upsert(tx, row);
      if (before) outcome.updated++;
      else outcome.created++;
    }

    return derived;
  }

  private async retractUnderived(
    tx: Queryable,
    states: Map<string, AlertState>,
    derived: Set<string>,
    now: string,
    outcome: ReconcileOutcome,
  ): Promise<void> {
    for (const state of states.values()) {
      if (derived.has(state.id) || state.status === AlertStatus.Retracted) continue;

      await this.alerts.setStatus(tx, state.deviceId, state.id, AlertStatus.Retracted, now);
      outcome.retracted++;
    }
  }

  devicesWithAlerts(ruleId: string): Promise<string[]> {
    return this.alerts.devicesWithAlerts(ruleId);
  }

  async get(id: string): Promise<Alert> {
    if (!UUID_PATTERN.test(id)) throw new NotFoundError(`alert ${id} does not exist`);

    const row = await this.alerts.getById(id);
    if (!row) throw new NotFoundError(`alert ${id} does not exist`);

    return toAlert(row);
  }

  /**
   * The change feed: alerts created or changed after the change number `after`, each once at its latest change,
   * in change order. A poller that passes back `lastSequence` sees every change once, whatever the event times.
   */
  async changes(
    after: number,
    limit: number,
  ): Promise<{ items: { sequence: number; alert: Alert }[]; lastSequence: number }> {
    const changed = await this.alerts.changesAfter(after, limit);
    const items = changed.map(({ sequence, row }) => ({ sequence, alert: toAlert(row) }));

    return { items, lastSequence: items.length > 0 ? items[items.length - 1]!.sequence : after };
  }

  async list(query: AlertQuery): Promise<AlertPage> {
    const search: AlertSearch = {
      deviceId: query.deviceId === undefined ? undefined : canonicalDeviceId(query.deviceId),
      status: query.status,
      fromText: query.from ? canonicalTimestamp(query.from, 'from') : undefined,
      toText: query.to ? canonicalTimestamp(query.to, 'to') : undefined,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
    };
    if (search.fromText && search.toText && search.fromText > search.toText) {
      throw new InvalidInputError('from is later than to', { field: 'from' });
    }

    const rows = await this.alerts.search(search);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > query.limit && last ? encodeCursor(last) : null;

    return { items: page.map(toAlert), nextCursor };
  }

  /**
   * The row of a derived alert. Held back by a suppression: status `suppressed`, the suppression in its content.
   * Otherwise it keeps the status it had, unless that was `retracted` or `suppressed`: then it is `new` again.
   */
  private toRow(
    id: string,
    derived: AlertCandidate,
    suppression: SuppressionRecord | null,
    states: Map<string, AlertState>,
    now: string,
  ): AlertRow {
    const candidate = { ...derived, suppression };
    const before = states.get(id);
    const contentHash = createHash('sha256').update(JSON.stringify(candidate)).digest('hex');

    return {
      deviceId: candidate.deviceId,
      id,
      ruleId: candidate.ruleId,
      deviceName: candidate.deviceName,
      processId: candidate.processId,
      fileName: candidate.fileName,
      status: statusOf(before?.status, suppression),
      severity: ADWS_RULE_SEVERITY,
      timestampText: candidate.timestamp,
      content: candidate as unknown as Record<string, unknown>,
      contentHash,
      revision: before ? before.revision + 1 : 1,
      createdAt: now,
      updatedAt: now,
    };
  }
}

/**
 * The id a derived alert is stored under: its own (see alert-id.ts) when that is stored or free, else the id of a
 * stored alert of the device that no other candidate took and whose paths cite one of the same connection events.
 * So an alert whose process identity is refined by later evidence (a unique id or creation time arriving, a Sysmon
 * GUID joining a Defender process) or whose rule mode changes stays one alert and gains a revision.
 */
function identify(
  candidate: AlertCandidate,
  states: Map<string, AlertState>,
  byConnection: Map<string, AlertState[]>,
  taken: Set<string>,
): string {
  const own = alertId(candidate);
  if (states.has(own)) return own;

  const adoptable = [...connectionKeysOf(candidate.paths)]
    .flatMap((key) => byConnection.get(key) ?? [])
    .filter((state) => !taken.has(state.id) && state.deviceId === candidate.deviceId)
    .map((state) => state.id)
    .sort();

  return adoptable[0] ?? own;
}

/** The stored alerts by the connection events their paths cite, built once per reconcile. */
function statesByConnection(states: Map<string, AlertState>): Map<string, AlertState[]> {
  const index = new Map<string, AlertState[]>();
  for (const state of states.values()) {
    for (const key of state.connectionKeys) index.set(key, [...(index.get(key) ?? []), state]);
  }

  return index;
}

function statusOf(before: AlertStatus | undefined, suppression: SuppressionRecord | null): AlertStatus {
  if (suppression !== null) return AlertStatus.Suppressed;
  if (before === undefined || before === AlertStatus.Retracted || before === AlertStatus.Suppressed) {
    return AlertStatus.New;
  }

  return before;
}

function toAlert(row: AlertRow): Alert {
  const candidate = row.content as unknown as AlertCandidate;

  return {
    id: row.id,
    ruleId: row.ruleId,
    status: row.status,
    severity: row.severity,
    deviceId: row.deviceId,
    deviceName: candidate.deviceName,
    hostName: candidate.hostName,
    dnsDomain: candidate.dnsDomain,
    timestamp: candidate.timestamp,
    processId: candidate.processId,
    fileName: candidate.fileName,
    injectionMethods: candidate.injectionMethods,
    injectors: candidate.injectors.map((i) => ({
      processId: i.processId,
      fileName: i.fileName,
      folderPath: i.folderPath,
      actionTypes: i.actionTypes,
      firstSeen: i.firstSeen,
      lastSeen: i.lastSeen,
    })),
    connections: candidate.connections.map((c) => ({
      timestamp: c.timestamp,
      remoteIp: c.remoteIp,
      remotePort: c.remotePort,
      localIp: c.localIp,
      localPort: c.localPort,
    })),
    evidence: candidate.evidence.map((e) => ({ table: e.table, deviceId: e.deviceId, eventKey: e.eventKey })),
    mitre: ADWS_RULE_MITRE.map((m) => ({ ...m, tactics: m.tactics.map((t) => ({ ...t })) })),
    nodeKeys: candidate.nodeKeys,
    mode: candidate.mode ?? 'reference',
    path: candidate.path ?? null,
    paths: candidate.paths ?? [],
    viaDescendant: candidate.viaDescendant ?? false,
    evidenceGaps: candidate.evidenceGaps ?? [],
    exclusionsConsidered: candidate.exclusionsConsidered ?? [],
    suppression: (row.content.suppression as SuppressionRecord | null | undefined) ?? null,
    revision: row.revision,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function encodeCursor(row: AlertRow): string {
  return Buffer.from(JSON.stringify([row.timestampText, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { timestampText: string; id: string } {
  try {
    const [timestampText, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (typeof timestampText !== 'string' || !UUID_PATTERN.test(id)) throw new Error('shape');

    return { timestampText, id };
  } catch {
    throw new InvalidInputError('cursor is not one this service issued', { field: 'cursor' });
  }
}
