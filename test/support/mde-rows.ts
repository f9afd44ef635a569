/**
 * Defender rows as Advanced Hunting exports them (the shape a pipeline posts), for HTTP tests.
 * Only the columns the engine reads plus a few realistic extras; override anything per test.
 */
let reportSeq = 1000;

export type MdeRow = Record<string, unknown>;

export function injectionRow(overrides: MdeRow = {}): MdeRow {
  return {
    Timestamp: '2024-03-01T10:00:00.1234567Z',
    DeviceId: 'dev-1',
    DeviceName: 'ws01.contoso.local',
    ActionType: 'CreateRemoteThreadApiCall',
    FileName: 'notepad.exe',
    FolderPath: 'c:\\windows\\system32\\notepad.exe',
    ProcessId: 4242,
    ProcessCreationTime: '2024-03-01T09:59:00.0000000Z',
    InitiatingProcessId: 6008,
    InitiatingProcessFileName: 'powershell.exe',
    InitiatingProcessFolderPath: 'c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe',
    InitiatingProcessCommandLine: 'powershell.exe -nop -w hidden',
    InitiatingProcessAccountName: 'alice',
    AdditionalFields: '{"Size":4096}',
    ReportId: reportSeq++,
    ...overrides,
  };
}

export function connectionRow(overrides: MdeRow = {}): MdeRow {
  return {
    Timestamp: '2024-03-01T10:05:00.0000000Z',
    DeviceId: 'dev-1',
    DeviceName: 'ws01.contoso.local',
    ActionType: 'ConnectionSuccess',
    RemoteIP: '10.0.0.10',
    RemotePort: 9389,
    RemoteUrl: '',
    LocalIP: '10.0.0.50',
    LocalPort: 50123,
    Protocol: 'Tcp',
    InitiatingProcessId: 4242,
    InitiatingProcessFileName: 'Notepad.exe',
    InitiatingProcessFolderPath: 'c:\\windows\\system32\\notepad.exe',
    InitiatingProcessAccountName: 'alice',
    ReportId: reportSeq++,
    ...overrides,
  };
}

export function toNdjson(rows: MdeRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** A portal-style CSV: every value a string, "" for absent, objects as JSON text with doubled quotes. */
export function toCsv(rows: MdeRow[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (value: unknown) => {
    if (value === null || value === undefined) return '';
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))];

  return lines.join('\r\n') + '\r\n';
}

/** An Advanced Hunting API response: a Schema and the rows as Results. */
export function toHuntingResponse(rows: MdeRow[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const schema = columns.map((name) => ({ Name: name, Type: name === 'Timestamp' ? 'DateTime' : 'String' }));

  return JSON.stringify({ Stats: { ExecutionTime: 0.1 }, Schema: schema, Results: rows });
}

/** A streaming-API (Event Hub) payload. */
export function toStreamingRecords(table: string, rows: MdeRow[]): string {
  const records = rows.map((properties) => ({
    time: '2024-03-01T12:00:00.0000000Z',
    tenantId: '00000000-0000-0000-0000-00000000abcd',
    operationName: 'Publish',
    category: `AdvancedHunting-${table}`,
    properties,
  }));

  return JSON.stringify({ records });
}
