import { describe, expect, it } from 'vitest';

import {
  ACTION_TYPE_TABLES,
  NOT_INGESTED_TABLES,
  mdeTableName,
  tableFromActionType,
} from '../../../src/ingest/mappers/mde.routing.js';
import { EventTable, INJECTION_ACTION_TYPES } from '../../../src/vocabulary/graph.vocabulary.js';

describe('action type → table knowledge', () => {
  it('names only tables the routing knows', () => {
    const known = new Set<string>([...Object.values(EventTable), ...NOT_INGESTED_TABLES]);

    for (const [actionType, table] of Object.entries(ACTION_TYPE_TABLES)) {
      expect(known.has(table), `${actionType} → ${table}`).toBe(true);
    }
  });

  it('never sends an injection action type of the reference rule away from DeviceEvents', () => {
    for (const actionType of INJECTION_ACTION_TYPES) {
      expect(tableFromActionType(actionType)).toBeUndefined();
    }
  });

  it('compares action types without case and knows the *ConnectionInspected family', () => {
    expect(tableFromActionType('PROCESSCREATED')).toBe('DeviceProcessEvents');
    expect(tableFromActionType('SmtpConnectionInspected')).toBe('DeviceNetworkEvents');
    expect(tableFromActionType(42)).toBeUndefined();
  });
});

describe('mdeTableName', () => {
  it.each([
    ['AdvancedHunting-DeviceEvents', 'DeviceEvents'],
    ['ADVANCEDHUNTING-DEVICENETWORKEVENTS', 'DeviceNetworkEvents'],
    ['AdvancedHunting-DeviceProcessEvents', null],
    ['DeviceEvents', null],
    ['AdvancedHunting-', null],
  ])('reads %s as %s', (category, table) => {
    expect(mdeTableName(category)).toBe(table);
  });
});
