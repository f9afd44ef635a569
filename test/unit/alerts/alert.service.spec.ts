import { beforeEach, describe, expect, it } from 'vitest';

import { alertId } from '../../../src/alerts/alert-id.js';
import {
  connectionKeysOf,
  type AlertRow,
  type AlertState,
  type DerivedAlertRow,
} from '../../../src/alerts/alert.repository.js';
import type { ChangeRecord } from '../../../src/alerts/alert-change.js';
import { AlertRepository } from '../../../src/alerts/alert.repository.js';
import { AlertService } from '../../../src/alerts/alert.service.js';
import type { Database, Queryable } from '../../../src/database/database.js';
import type { AlertCandidate } from '../../../src/detection/alert.types.js';
import { ADWS_RULE_ID } from '../../../src/rules/rule.types.js';

/** An in-memory stand-in for the alert repository: the rules under test live in the service. */
class MemoryAlertRepository {
  readonly rows = new Map<string, AlertRow>();
  readonly changes: ChangeRecord[] = [];

  async getStates(_tx: Queryable, ruleId: string, deviceIds: string[]): Promise<AlertState[]> {
    return [...this.rows.values()]
      .filter((r) => r.ruleId === ruleId && deviceIds.includes(r.deviceId))
      .map(({ deviceId, id, status, triageStatus, contentHash, revision, content }) => ({
        deviceId,
        id,
        status,
        triageStatus,
        contentHash,
        revision,
        connectionKeys: connectionKeysOf(content.paths),
      }));
  }

  /** As the SQL upsert: triage fields kept, revision counted from the stored row. */
  async upsert(_tx: Queryable, row: DerivedAlertRow): Promise<AlertRow> {
    const before = this.rows.get(row.id);
    const triage = before ?? { triageStatus: 'new' as const, classification: null, assignedTo: null };
    const stored: AlertRow = {
      ...row,
      triageStatus: triage.triageStatus,
      classification: triage.classification,
      assignedTo: triage.assignedTo,
      revision: before ? before.revision + 1 : 1,
      createdAt: before?.createdAt ?? row.createdAt,
    };
    this.rows.set(row.id, stored);

    return stored;
  }

  async setStatus(
    _tx: Queryable,
    _deviceId: string,
    id: string,
    status: AlertRow['status'],
    at: string,
  ): Promise<AlertRow> {
    const row = this.rows.get(id)!;
    const stored = { ...row, status, revision: row.revision + 1, updatedAt: at };
    this.rows.set(id, stored);

    return stored;
  }

  async lockChanges(_tx: Queryable): Promise<void> {}

  async recordChange(_tx: Queryable, change: ChangeRecord): Promise<number> {
    this.changes.push(change);

    return this.changes.length;
  }
}

const noDatabase = { transaction: (work: (tx: Queryable) => Promise<unknown>) => work({} as Queryable) } as Database;

function candidate(overrides: Partial<AlertCandidate> = {}): AlertCandidate {
  return {
    ruleId: ADWS_RULE_ID,
    deviceId: 'dev-1',
    deviceName: 'ws01.contoso.local',
    hostName: 'ws01',
    dnsDomain: 'contoso.local',
    timestamp: '2024-03-01T10:05:00.0000000Z',
    processId: 4242,
    fileName: 'notepad.exe',
    injectionMethods: ['CreateRemoteThreadApiCall'],
    injectors: [],
    connections: [],
    evidence: [{ table: 'DeviceEvents', deviceId: 'dev-1', eventKey: 'r:2024-03-01T10:00:00.0000000Z:1' }],
    nodeKeys: [],
    mode: 'reference',
    path: { nodes: [], edges: [], viaDescendant: false },
    paths: [],
    viaDescendant: false,
    evidenceGaps: [],
    exclusionsConsidered: [],
    ...overrides,
  };
}

describe('AlertService.reconcile', () => {
  let repository: MemoryAlertRepository;
  let service: AlertService;

  beforeEach(() => {
    repository = new MemoryAlertRepository();
    service = new AlertService(noDatabase, repository as unknown as AlertRepository);
  });

  it('creates a new alert at revision 1 with an id derived from its identity', async () => {
    const outcome = await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't1');

    expect(outcome).toEqual({ created: 1, updated: 0, retracted: 0 });
    const row = repository.rows.get(alertId(candidate()))!;
    expect(row).toMatchObject({ status: 'new', revision: 1, createdAt: 't1', updatedAt: 't1' });
  });

  it('changes nothing when the same evidence is derived again', async () => {
    await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't1');

    const outcome = await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't2');

    expect(outcome).toEqual({ created: 0, updated: 0, retracted: 0 });
    expect(repository.rows.get(alertId(candidate()))).toMatchObject({ revision: 1, updatedAt: 't1' });
  });

  it('bumps the revision when the evidence changes, keeping id and createdAt', async () => {
    await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't1');
    const more = candidate({ injectionMethods: ['CreateRemoteThreadApiCall', 'QueueUserApcRemoteApiCall'] });

    const outcome = await service.reconcile(ADWS_RULE_ID, ['dev-1'], [more], 't2');

    expect(outcome).toEqual({ created: 0, updated: 1, retracted: 0 });
    expect(repository.rows.get(alertId(more))).toMatchObject({ revision: 2, createdAt: 't1', updatedAt: 't2' });
  });

  it('retracts an alert no longer derived for a re-evaluated device, and reopens it when it is again', async () => {
    await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't1');

    const retracted = await service.reconcile(ADWS_RULE_ID, ['dev-1'], [], 't2');
    const row = repository.rows.get(alertId(candidate()))!;
    const reopened = await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't3');

    expect(retracted).toEqual({ created: 0, updated: 0, retracted: 1 });
    expect(row).toMatchObject({ status: 'retracted', revision: 2 });
    expect(reopened).toEqual({ created: 0, updated: 1, retracted: 0 });
    expect(repository.rows.get(alertId(candidate()))).toMatchObject({ status: 'new', revision: 3 });
  });

  it('leaves the alerts of devices it was not asked about alone', async () => {
    await service.reconcile(ADWS_RULE_ID, ['dev-1'], [candidate()], 't1');

    const outcome = await service.reconcile(ADWS_RULE_ID, ['dev-2'], [], 't2');

    expect(outcome).toEqual({ created: 0, updated: 0, retracted: 0 });
    expect(repository.rows.get(alertId(candidate()))).toMatchObject({ status: 'new', revision: 1 });
  });
});
