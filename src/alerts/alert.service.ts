import { createHash } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';

import { DATABASE, type Database, type Queryable } from '../database/database.js';
import type { AlertCandidate } from '../detection/alert.types.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { canonicalTimestamp } from '../ingest/mappers/normalize.js';
import { alertId, UUID_PATTERN } from './alert-id.js';
import {
  ADWS_RULE_MITRE,
  ADWS_RULE_SEVERITY,
  AlertStatus,
  CLOSED_TRIAGE_STATUSES,
  type Alert,
  type AlertClassification,
  type TriageStatus,
} from './alert.model.js';
import {
  ALERT_CHANGE_LISTENER,
  AlertChangeType,
  DETECTION_ACTOR,
  type AlertChangeListener,
  type ChangeRecord,
  type FieldChange,
} from './alert-change.js';
import { checkIfMatch } from './alert-etag.js';
import { canonicalDeviceId } from '../vocabulary/graph.vocabulary.js';
import { suppressionFor, type Suppression, type SuppressionRecord } from '../suppressions/suppression.types.js';
import {
  AlertRepository,
  connectionKeysOf,
  type AlertRow,
  type AlertSearch,
  type AlertState,
  type DerivedAlertRow,
  type StoredChange,
} from './alert.repository.js';

/** Who makes an analyst's change: the API key's name and id (null when auth is off). */
export interface Actor {
  name: string;
  keyId: string | null;
}

/** An analyst's change (PATCH): only the fields present change; null clears classification and assignee. */
export interface TriagePatch {
  status?: TriageStatus;
  classification?: AlertClassification | null;
  assignedTo?: string | null;
  comment?: string;
}

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
    @Optional() @Inject(ALERT_CHANGE_LISTENER) private readonly listener?: AlertChangeListener,
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
      await this.alerts.lockChanges(tx);
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

      const stored = await this.alerts.upsert(tx, row);
      await this.publish(tx, engineChange(before, stored));
      if (before) outcome.updated++;
      else outcome.created++;
    }

    return derived;
  }

  /** Records a committed-with-the-transaction change in the feed and audit trail, then tells the listener. */
  private async publish(tx: Queryable, change: { record: ChangeRecord; row: AlertRow }): Promise<void> {
    const sequence = await this.alerts.recordChange(tx, change.record);
    if (!this.listener) return;

    await this.listener.onAlertChange(tx, { ...change.record, sequence, alert: toAlert(change.row) });
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

      const stored = await this.alerts.setStatus(tx, state.deviceId, state.id, AlertStatus.Retracted, now);
      if (!stored) continue;

      const comment = 'retracted: the stored evidence no longer satisfies the rule under its current settings';
      const changes = { status: { from: state.status, to: stored.status } };
      await this.publish(tx, { record: changeRecord(stored, AlertChangeType.Status, changes, comment), row: stored });
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
   * An analyst's change: status, classification, assignee and a comment, applied only if `ifMatch` names the
   * current revision (see alert-etag.ts). Recorded in the audit trail under `actor`; a request that changes
   * nothing and has no comment writes nothing. A retracted alert's status belongs to the engine (409).
   */
  async triage(id: string, patch: TriagePatch, ifMatch: string | undefined, actor: Actor): Promise<Alert> {
    if (!UUID_PATTERN.test(id)) throw new NotFoundError(`alert ${id} does not exist`);

    const row = await this.db.transaction(async (tx) => {
      await this.alerts.lockChanges(tx);
      const current = await this.alerts.lockById(tx, id);
      if (!current) throw new NotFoundError(`alert ${id} does not exist`);
      checkIfMatch(ifMatch, id, current.revision);

      return this.applyTriage(tx, current, patch, actor);
    });

    return toAlert(row);
  }

  private async applyTriage(tx: Queryable, current: AlertRow, patch: TriagePatch, actor: Actor): Promise<AlertRow> {
    const next = {
      triageStatus: patch.status ?? current.triageStatus,
      classification: patch.classification === undefined ? current.classification : patch.classification,
      assignedTo: patch.assignedTo === undefined ? current.assignedTo : patch.assignedTo,
    };
    const status = triagedStatus(current, next.triageStatus);
    const changes = changedFields(current, { ...next, status });
    const comment = patch.comment ?? null;
    if (Object.keys(changes).length === 0 && comment === null) return current;

    const at = new Date().toISOString();
    const update = { ...next, status, expectedRevision: current.revision, at };
    const stored = await this.alerts.applyTriage(tx, current.id, update);
    if (!stored) throw new ConflictError(`alert ${current.id} changed while it was being updated; read it again`);

    const type = changes.status || changes.triageStatus ? AlertChangeType.Status : AlertChangeType.Updated;
    const record = { ...changeRecord(stored, type, changes, comment), actor: actor.name, actorKeyId: actor.keyId };
    await this.publish(tx, { record, row: stored });
    return stored;
  }

  /** The audit trail of one alert: every change after sequence `after`, oldest first, with who made it. */
  async history(id: string, after: number, limit: number): Promise<{ items: StoredChange[]; lastSequence: number }> {
    await this.get(id);

    const items = await this.alerts.history(id, after, limit);
    return { items, lastSequence: items.at(-1)?.sequence ?? after };
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
    if (items.length === 0) await this.checkCursor(after);

    return { items, lastSequence: items.length > 0 ? items[items.length - 1]!.sequence : after };
  }

  /**
   * A cursor past the newest change was not issued by this database (a restore, another instance): polling on
   * from it would skip every change until the sequence caught up, so it is refused with the newest number.
   */
  private async checkCursor(after: number): Promise<void> {
    const newest = await this.alerts.newestChange();
    if (after <= newest) return;

    throw new ConflictError(`after ${after} is past the newest change, ${newest}: restart from a known sequence`, {
      field: 'after',
      newestSequence: newest,
    });
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
  ): DerivedAlertRow {
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
      status: servedStatus(before?.triageStatus ?? AlertStatus.New, suppression !== null),
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

/**
 * What an alert shows: its triage status, unless a suppression holds it back while it is still open. A closed
 * verdict (resolved, false positive) is not hidden by a suppression, and a suppression lifted later brings back the
 * triage status it had. The upsert repeats this rule in SQL against the row as stored (alert.repository.ts).
 */
function servedStatus(triageStatus: TriageStatus, suppressed: boolean): AlertStatus {
  if (suppressed && !CLOSED_TRIAGE_STATUSES.includes(triageStatus)) return AlertStatus.Suppressed;

  return triageStatus;
}

/** The status after an analyst sets `triageStatus`: a retracted alert stays retracted (its status is the engine's). */
function triagedStatus(current: AlertRow, triageStatus: TriageStatus): AlertStatus {
  if (current.status !== AlertStatus.Retracted) return servedStatus(triageStatus, current.content.suppression != null);
  if (triageStatus === current.triageStatus) return AlertStatus.Retracted;

  throw new ConflictError(
    `alert ${current.id} is retracted (its evidence no longer satisfies the rule); its status cannot be set, ` +
      'but classification, assignee and comments can',
    { field: 'status' },
  );
}

type TriageFields = Pick<AlertRow, 'status' | 'triageStatus' | 'classification' | 'assignedTo'>;

function changedFields(before: TriageFields, after: TriageFields): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const field of ['status', 'triageStatus', 'classification', 'assignedTo'] as const) {
    if (before[field] !== after[field]) changes[field] = { from: before[field], to: after[field] };
  }

  return changes;
}

function changeRecord(
  row: AlertRow,
  type: AlertChangeType,
  changes: Record<string, FieldChange>,
  comment: string | null,
): ChangeRecord {
  return {
    alertId: row.id,
    deviceId: row.deviceId,
    revision: row.revision,
    changedAt: row.updatedAt,
    actor: DETECTION_ACTOR,
    actorKeyId: null,
    type,
    changes,
    comment,
  };
}

/** The change the engine made by deriving `stored` over `before` (absent: a new alert). */
function engineChange(before: AlertState | undefined, stored: AlertRow): { record: ChangeRecord; row: AlertRow } {
  if (!before) return { record: changeRecord(stored, AlertChangeType.Created, {}, null), row: stored };
  if (before.status === stored.status) {
    return { record: changeRecord(stored, AlertChangeType.Updated, {}, 'new or changed evidence'), row: stored };
  }

  const changes = { status: { from: before.status, to: stored.status } };
  const comment =
    stored.status === AlertStatus.Suppressed
      ? 'held back by a suppression'
      : before.status === AlertStatus.Suppressed
        ? 'suppression lifted'
        : 'derived again: the evidence satisfies the rule again';
  return { record: changeRecord(stored, AlertChangeType.Status, changes, comment), row: stored };
}

function toAlert(row: AlertRow): Alert {
  const candidate = row.content as unknown as AlertCandidate;

  return {
    id: row.id,
    ruleId: row.ruleId,
    status: row.status,
    triageStatus: row.triageStatus,
    classification: row.classification,
    assignedTo: row.assignedTo,
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
