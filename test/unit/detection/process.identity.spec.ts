import { describe, expect, it } from 'vitest';

import { ProcessResolver } from '../../../src/detection/process.identity.js';
import type { SysmonEvent } from '../../../src/ingest/event.types.js';

const HOST = 'host:ws1';
let seq = 0;

function sysmon(overrides: Partial<SysmonEvent>): SysmonEvent {
  return {
    table: 'SysmonEvents',
    eventKey: `r:k:${seq++}`,
    deviceId: HOST,
    deviceName: 'WS1',
    timestamp: '2024-03-01T10:00:00.0000000Z',
    eventId: 1,
    actionType: 'ProcessCreate',
    recordId: null,
    processGuid: null,
    processId: null,
    image: null,
    parentProcessGuid: null,
    parentProcessId: null,
    parentImage: null,
    targetProcessGuid: null,
    targetProcessId: null,
    targetImage: null,
    initiated: null,
    protocol: null,
    sourceIp: null,
    sourcePort: null,
    destinationIp: null,
    destinationPort: null,
    grantedAccess: null,
    raw: null,
    ...overrides,
  };
}

const create = (guid: string, pid: number, image: string, timestamp: string) =>
  sysmon({ eventId: 1, processGuid: guid, processId: pid, image, timestamp });

describe('ProcessResolver', () => {
  it('names a GUID logged as <unknown process> by its process-create, whichever event comes first', () => {
    const thread = sysmon({
      eventId: 8,
      actionType: 'CreateRemoteThread',
      processGuid: 'src',
      processId: 6208,
      image: 'C:\\Windows\\System32\\wuauclt.exe',
      targetProcessGuid: 'tgt',
      targetProcessId: 2368,
      targetImage: null,
    });
    const created = create('tgt', 2368, 'C:\\Windows\\System32\\notepad.exe', '2024-03-01T10:00:00.0070000Z');

    for (const events of [
      [thread, created],
      [created, thread],
    ]) {
      const resolved = new ProcessResolver(HOST, events).resolve({
        guid: 'tgt',
        processId: 2368,
        image: null,
        timestamp: thread.timestamp,
      });
      expect(resolved).toEqual({
        key: `process:${HOST}:guid:tgt`,
        processId: 2368,
        fileName: 'notepad.exe',
        processGuid: 'tgt',
        creationTime: '2024-03-01T10:00:00.0070000Z',
      });
    }
  });

  it('without a GUID, takes the process created with that pid most recently before the event (1 min skew)', () => {
    const resolver = new ProcessResolver(HOST, [
      create('old', 500, 'C:\\a.exe', '2024-03-01T09:00:00.0000000Z'),
      create('new', 500, 'C:\\b.exe', '2024-03-01T10:00:30.0000000Z'),
    ]);
    const at = (timestamp: string) => resolver.resolve({ guid: null, processId: 500, image: null, timestamp });

    expect(at('2024-03-01T09:30:00.0000000Z')?.processGuid).toBe('old');
    expect(at('2024-03-01T10:00:00.0000000Z')?.processGuid).toBe('new');
    expect(at('2024-03-01T08:00:00.0000000Z')).toBeNull();
    expect(
      resolver.resolve({ guid: null, processId: 501, image: null, timestamp: '2024-03-01T10:00:00.0000000Z' }),
    ).toBeNull();
  });

  it('joins a Defender pid and name to the one GUID process that has them, and to none when two do', () => {
    const one = new ProcessResolver(HOST, [create('g1', 700, 'C:\\x\\Notepad.exe', '2024-03-01T09:00:00.0000000Z')]);
    const two = new ProcessResolver(HOST, [
      create('g1', 700, 'C:\\x\\notepad.exe', '2024-03-01T09:00:00.0000000Z'),
      create('g2', 700, 'C:\\x\\notepad.exe', '2024-03-01T11:00:00.0000000Z'),
    ]);

    expect(one.named(700, 'NOTEPAD.EXE').key).toBe(`process:${HOST}:guid:g1`);
    expect(one.named(700, 'calc.exe').key).toBe(`process:${HOST}:700:calc.exe`);
    expect(two.named(700, 'notepad.exe')).toEqual({
      key: `process:${HOST}:700:notepad.exe`,
      processId: 700,
      fileName: 'notepad.exe',
      processGuid: null,
      creationTime: null,
    });
  });

  it('prefers the create’s image over other events’ spelling of the same GUID', () => {
    const resolver = new ProcessResolver(HOST, [
      sysmon({ eventId: 3, actionType: 'NetworkConnect', processGuid: 'g', processId: 9, image: 'c:\\w\\np.exe' }),
      create('g', 9, 'C:\\W\\Notepad.exe', '2024-03-01T10:00:01.0000000Z'),
    ]);

    expect(
      resolver.resolve({ guid: 'g', processId: 9, image: null, timestamp: '2024-03-01T10:00:00.0000000Z' }),
    ).toMatchObject({ fileName: 'notepad.exe' });
  });
});
