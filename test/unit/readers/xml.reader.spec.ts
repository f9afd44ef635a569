import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { BodyParseError, PayloadTooLargeError } from '../../../src/common/domain.errors.js';
import { readRecords } from '../../../src/ingest/readers/record.reader.js';
import type { SourceRecord } from '../../../src/ingest/readers/record.types.js';
import { XmlEventReader } from '../../../src/ingest/readers/xml.reader.js';
import { hasSharedFile, sharedFile } from '../../support/shared-data.js';
import { chunkings, readAll, readError, splitAt, splitEvery, splitRandomly, streamOf } from './reader.helpers.js';

const xml = (text: string) => Buffer.from(text, 'utf8');
const read = (text: string, opts = {}) => readAll([xml(text)], 'xml', opts);
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

const NS = "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'";
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The Sysmon event 8 of the brief, as wevtutil prints it. */
const SYSMON_8 =
  `<Event ${NS}><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/>` +
  '<EventID>8</EventID><Version>2</Version><Level>4</Level><Task>8</Task><Opcode>0</Opcode>' +
  "<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='2020-10-12T22:34:38.1700000Z'/>" +
  "<EventRecordID>338575</EventRecordID><Correlation/><Execution ProcessID='3312' ThreadID='3444'/>" +
  '<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WORKSTATION5.theshire.local</Computer>' +
  "<Security UserID='S-1-5-18'/></System><EventData><Data Name='RuleName'>-</Data>" +
  "<Data Name='UtcTime'>2020-10-12 22:34:38.169</Data>" +
  "<Data Name='SourceProcessGuid'>{71b87c12-d9fe-5f84-1901-000000000500}</Data>" +
  "<Data Name='SourceProcessId'>6208</Data><Data Name='SourceImage'>C:\\Windows\\System32\\wuauclt.exe</Data>" +
  "<Data Name='TargetProcessGuid'>{71b87c12-d9fe-5f84-1a01-000000000500}</Data>" +
  "<Data Name='TargetProcessId'>2368</Data><Data Name='TargetImage'>&lt;unknown process&gt;</Data>" +
  '</EventData></Event>';

const SYSMON_8_VALUE = {
  System: {
    Provider: { Name: 'Microsoft-Windows-Sysmon', Guid: '{5770385f-c22a-43e0-bf4c-06f5698ffbd9}' },
    EventID: '8',
    Version: '2',
    Level: '4',
    Task: '8',
    Opcode: '0',
    Keywords: '0x8000000000000000',
    TimeCreated: { SystemTime: '2020-10-12T22:34:38.1700000Z' },
    EventRecordID: '338575',
    Correlation: {},
    Execution: { ProcessID: '3312', ThreadID: '3444' },
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    Computer: 'WORKSTATION5.theshire.local',
    Security: { UserID: 'S-1-5-18' },
  },
  EventData: {
    RuleName: '-',
    UtcTime: '2020-10-12 22:34:38.169',
    SourceProcessGuid: '{71b87c12-d9fe-5f84-1901-000000000500}',
    SourceProcessId: '6208',
    SourceImage: 'C:\\Windows\\System32\\wuauclt.exe',
    TargetProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}',
    TargetProcessId: '2368',
    TargetImage: '<unknown process>',
  },
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
}

/** A small Sysmon event 1 with the given record id and image; `k` varies the values. */
function sysmonEvent(k: number, image = `C:\\Tools\\tool${k}.exe`): string {
  const data = { RuleName: '-', ProcessId: String(1000 + k), Image: image, CommandLine: `"${image}" /run ${k}` };
  const fields = Object.entries(data).map(([name, value]) => `<Data Name='${name}'>${escapeXml(value)}</Data>`);

  return (
    `<Event ${NS}><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>` +
    `<EventRecordID>${k}</EventRecordID><Computer>host${k % 7}.corp</Computer></System>` +
    `<EventData>${fields.join('')}</EventData></Event>`
  );
}

/** Reads through readRecords, keeping the records read before an error and the error itself. */
async function readUntilError(chunks: Buffer[]): Promise<{ records: SourceRecord[]; error: unknown }> {
  const records: SourceRecord[] = [];
  try {
    for await (const batch of readRecords(streamOf(chunks), 'xml', { batchSize: 1 })) records.push(...batch);
  } catch (error) {
    return { records, error };
  }

  return { records, error: undefined };
}

describe('XML reader: values', () => {
  it('reads a single Sysmon event: System by element, EventData by Name, entities decoded, all strings', async () => {
    const records = await read(SYSMON_8);

    expect(records).toEqual([{ position: 0, line: 1, value: SYSMON_8_VALUE, text: SYSMON_8 }]);
  });

  it('decodes the predefined entities and character references in Data values and attributes', async () => {
    const event =
      "<Event><System><Provider Name='a &amp; b &quot;c&quot;'/></System><EventData>" +
      "<Data Name='TargetImage'>&lt;unknown process&gt;</Data><Data Name='Chars'>&#65;&#x42;&apos;&#x1F600;</Data>" +
      '</EventData></Event>';
    const [record] = await read(event);

    expect(record.value).toEqual({
      System: { Provider: { Name: 'a & b "c"' } },
      EventData: { TargetImage: '<unknown process>', Chars: "AB'😀" },
    });
  });

  it('gives attributes and text of one element as { ...attributes, #text } (EventID Qualifiers)', async () => {
    const event =
      "<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/>" +
      "<EventID Qualifiers='16384'>4624</EventID><Level>0</Level></System></Event>";
    const [record] = await read(event);

    expect(record.value.System).toEqual({
      Provider: { Name: 'Microsoft-Windows-Security-Auditing' },
      EventID: { Qualifiers: '16384', '#text': '4624' },
      Level: '0',
    });
  });

  it('keeps Data whitespace as is, reads empty Data as "", and CDATA as text', async () => {
    const event =
      "<Event><EventData><Data Name='Spaces'>  two  </Data><Data Name='Empty'/><Data Name='Open'></Data>" +
      "<Data Name='Lines'>a\r\nb</Data><Data Name='Raw'><![CDATA[<x> & y]]></Data></EventData></Event>";
    const [record] = await read(event);

    // XML line-end normalisation turns CRLF inside text into LF; `text` keeps the original bytes.
    expect(record.value.EventData).toEqual({ Spaces: '  two  ', Empty: '', Open: '', Lines: 'a\nb', Raw: '<x> & y' });
    expect(record.text).toContain('a\r\nb');
  });

  it('collects Data without Name into an array under Data, in order; other children by name as text', async () => {
    const classic =
      "<Event><System><EventID Qualifiers='0'>7036</EventID></System><EventData><Data>Print Spooler</Data>" +
      '<Data>running</Data><Data></Data><Binary>5300700006F006F006C0000000000</Binary></EventData></Event>';
    const single = '<Event><EventData><Data>only</Data></EventData></Event>';
    const records = await read(classic + single);

    expect(records[0].value.EventData).toEqual({
      Data: ['Print Spooler', 'running', ''],
      Binary: '5300700006F006F006C0000000000',
    });
    expect(records[1].value.EventData).toEqual({ Data: ['only'] });
  });

  it('drops namespace prefixes from elements and attributes, and xmlns declarations from attributes', async () => {
    const event =
      "<ev:Event xmlns:ev='http://schemas.microsoft.com/win/2004/08/events/event'><ev:System>" +
      "<ev:Provider ev:Name='P' xmlns:x='urn:x'/><ev:EventID>3</ev:EventID></ev:System><ev:EventData>" +
      "<ev:Data Name='DestinationPort'>9389</ev:Data></ev:EventData></ev:Event>";
    const records = await read(`<Events>${event}</Events>`);

    expect(records).toEqual([
      {
        position: 0,
        line: 1,
        value: { System: { Provider: { Name: 'P' }, EventID: '3' }, EventData: { DestinationPort: '9389' } },
        text: event,
      },
    ]);
  });

  it('reads UserData by the EventData rules, nesting its wrapper element; leaves RenderingInfo out', async () => {
    const event = [
      `<Event ${NS}>`,
      '  <System>',
      "    <Provider Name='Microsoft-Windows-Eventlog'/>",
      '    <EventID>1102</EventID>',
      '  </System>',
      '  <UserData>',
      "    <LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>",
      '      <SubjectUserSid>S-1-5-21-1</SubjectUserSid>',
      '      <SubjectUserName>alice</SubjectUserName>',
      '    </LogFileCleared>',
      '  </UserData>',
      "  <RenderingInfo Culture='en-US'><Message>The audit log was cleared.</Message></RenderingInfo>",
      '</Event>',
    ].join('\n');
    const [record] = await read(event);

    expect(record.value).toEqual({
      System: { Provider: { Name: 'Microsoft-Windows-Eventlog' }, EventID: '1102' },
      EventData: {},
      UserData: { LogFileCleared: { SubjectUserSid: 'S-1-5-21-1', SubjectUserName: 'alice' } },
    });
    expect(record.text).toBe(event);
  });

  it('turns a name met twice into an array instead of dropping a value', async () => {
    const [record] = await read("<Event><EventData><Data Name='A'>1</Data><Data Name='A'>2</Data></EventData></Event>");

    expect(record.value.EventData).toEqual({ A: ['1', '2'] });
  });

  it('keeps Names such as __proto__ and constructor as own properties, polluting no prototype', async () => {
    const event =
      "<Event><System><Provider __proto__='p' Name='n'/></System><EventData><Data Name='__proto__'>{}</Data>" +
      "<Data Name='constructor'>c</Data><Data Name='toString'>t</Data><Data Name='polluted'>no</Data>" +
      '</EventData></Event>';
    const [record] = await read(event);
    const data = record.value.EventData as Record<string, unknown>;
    const provider = (record.value.System as Record<string, unknown>).Provider as Record<string, unknown>;

    expect(Object.keys(data)).toEqual(['__proto__', 'constructor', 'toString', 'polluted']);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toBe('{}');
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(data.constructor).toBe('c');
    expect(Object.getOwnPropertyDescriptor(provider, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(provider)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives an event without System or EventData empty objects for them', async () => {
    expect((await read('<Event/>'))[0].value).toEqual({ System: {}, EventData: {} });
  });
});

describe('XML reader: body shapes, positions, lines and text', () => {
  it('reads an Event Viewer export: BOM, declaration, <Events> root, comments', async () => {
    const text =
      '<?xml version="1.0" encoding="utf-8"?>\r\n<Events>\r\n<!-- saved from Event Viewer -->\r\n' +
      `${SYSMON_8}\r\n${sysmonEvent(1)}</Events>\r\n`;
    const records = await readAll([Buffer.concat([BOM, xml(text)])], 'xml');

    expect(records.map((r) => [r.position, r.line, r.text])).toEqual([
      [0, 4, SYSMON_8],
      [1, 5, sysmonEvent(1)],
    ]);
    expect(records[0].value).toEqual(SYSMON_8_VALUE);
  });

  it('reads wevtutil / Get-WinEvent output: many <Event> roots, CRLF, blank lines, no declaration', async () => {
    const events = [sysmonEvent(1), SYSMON_8, sysmonEvent(2)];
    const text = `\r\n${events[0]}\r\n\r\n${events[1]}${events[2]}\r\n`;
    const records = await read(text);

    expect(records.map((r) => [r.position, r.line, r.text])).toEqual([
      [0, 2, events[0]],
      [1, 4, events[1]],
      [2, 4, events[2]],
    ]);
    expect(records[2].value.EventData).toMatchObject({ ProcessId: '1002', Image: 'C:\\Tools\\tool2.exe' });
  });

  it('gives the line where the <Event start tag begins, for events over many lines and in nested roots', async () => {
    const multiLine = `<Event\r\n  ${NS}>\r\n<System>\r\n<EventID>5</EventID></System>\r\n</Event>`;
    const text = `<Events>\n<Events>\n\n${multiLine}\n</Events>\n${multiLine}\n</Events>`;
    const records = await read(text);

    expect(records.map((r) => [r.position, r.line, r.value.System])).toEqual([
      [0, 4, { EventID: '5' }],
      [1, 10, { EventID: '5' }],
    ]);
    expect(records.map((r) => r.text)).toEqual([multiLine, multiLine]);
  });

  it('gives text as the exact bytes of the body from <Event to </Event>', async () => {
    const events = [sysmonEvent(3, 'C:\\Users\\zoë\\中文\\😀.exe'), `<Event ><System/></Event  >`];
    const body = Buffer.concat([BOM, xml(`<?xml version='1.0'?>\n<Events>\n  ${events.join('\n  ')}\n</Events>`)]);
    const records = await readAll([body], 'xml');

    let from = 0;
    for (const record of records) {
      const start = body.indexOf('<Event ', from);
      const end = start + bytes(record.text as string);
      expect(Buffer.from(record.text as string, 'utf8')).toEqual(body.subarray(start, end));
      expect(body.subarray(start, start + 6).toString()).toBe('<Event');
      expect(body.subarray(end - 1, end).toString()).toBe('>');
      from = end;
    }
    expect(records.map((r) => r.text)).toEqual(events);
  });

  it('yields nothing for a body with no <Event> element', async () => {
    for (const text of ['', '   \r\n', '<?xml version="1.0"?>', '<Events/>', '<!-- none --><Events>\n</Events>']) {
      expect(await read(text), text).toEqual([]);
    }
    expect(await readAll([BOM], 'xml')).toEqual([]);
  });

  it('gives the same records however the body is cut, multi-byte characters included', async () => {
    const event =
      "<Event><System><Computer>hôst-中</Computer></System><EventData><Data Name='Image'>C:\\😀\\é.exe</Data>" +
      "<Data Name='T'>&lt;x&gt;</Data></EventData></Event>";
    const body = Buffer.concat([BOM, xml(`<?xml version="1.0"?>\r\n<Events>\r\n${event}\r\n${event}</Events>`)]);
    const expected = await readAll([body], 'xml');
    expect(expected).toHaveLength(2);
    expect(expected[1].value.EventData).toEqual({ Image: 'C:\\😀\\é.exe', T: '<x>' });

    for (const [way, chunks] of chunkings(body)) {
      expect(await readAll(chunks, 'xml'), way).toEqual(expected);
    }
  });

  it('gives the same records for a large wevtutil body cut at random', async () => {
    const body = xml(Array.from({ length: 200 }, (_, k) => sysmonEvent(k, `C:\\é\\😀${k}.exe`)).join('\r\n'));
    const expected = await readAll([body], 'xml');

    expect(expected).toHaveLength(200);
    for (const seed of [3, 99]) expect(await readAll(splitRandomly(body, seed, 700), 'xml')).toEqual(expected);
  });

  it('streams 10k events in bounded batches, yielding before the whole body is read', async () => {
    const count = 10_000;
    const chunks = splitEvery(xml(Array.from({ length: count }, (_, k) => sysmonEvent(k)).join('\n')), 64 * 1024);
    let pulled = 0;
    async function* body() {
      for (const chunk of chunks) {
        pulled++;
        yield chunk;
      }
    }
    const sizes: number[] = [];
    const positions: number[] = [];
    let pulledAtFirstBatch = 0;
    for await (const batch of readRecords(body(), 'xml', { batchSize: 500 })) {
      if (sizes.length === 0) pulledAtFirstBatch = pulled;
      sizes.push(batch.length);
      positions.push(...batch.map((r) => r.position));
    }

    expect(chunks.length).toBeGreaterThan(20);
    expect(pulledAtFirstBatch).toBeLessThan(chunks.length / 4);
    expect(Math.max(...sizes)).toBe(500);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(count);
    expect(positions).toEqual(Array.from({ length: count }, (_, k) => k));
  });

  it('keeps no more of the body than one chunk and the open event, however many events went before', () => {
    const events = Array.from({ length: 10_000 }, (_, k) => sysmonEvent(k));
    const text = `<Events>\r\n${events.join('\r\n')}\r\n</Events>`;
    const chunk = 64 * 1024;
    const reader = new XmlEventReader();
    let kept = 0;
    let count = 0;
    for (let from = 0; from < text.length; from += chunk) {
      count += reader.feed(text.slice(from, from + chunk)).length;
      kept = Math.max(kept, reader.keptChars);
    }
    count += reader.end().length;

    expect(count).toBe(events.length);
    expect(text.length).toBeGreaterThan(40 * chunk);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(Math.max(...events.map((event) => event.length)));
  });

  it('returns from each feed only the events that feed completed', () => {
    const reader = new XmlEventReader();
    const event = sysmonEvent(5);

    expect(reader.feed(event.slice(0, 40))).toEqual([]);
    expect(reader.feed(`${event.slice(40)}\n${event.slice(0, 10)}`).map((r) => r.position)).toEqual([0]);
    expect(reader.end(event.slice(10)).map((r) => [r.position, r.line])).toEqual([[1, 2]]);
  });
});

describe('XML reader: errors', () => {
  it('names line, column and record of malformed XML; records of earlier chunks stay yielded', async () => {
    const good = `${sysmonEvent(0)}\n${sysmonEvent(1)}\n`;
    const body = xml(`${good}<Event><System>\n  <EventID>1</EventId></System></Event>`);
    for (const chunks of [splitAt(body, bytes(good)), splitEvery(body, 1), splitEvery(body, 50)]) {
      const { records, error } = await readUntilError(chunks);

      expect(records.map((r) => r.position)).toEqual([0, 1]);
      expect(error).toBeInstanceOf(BodyParseError);
      const column = bytes('  <EventID>1</EventId>');
      expect((error as Error).message).toMatch(new RegExp(`^invalid XML at line 4 column ${column} in record 2: `));
      expect((error as BodyParseError).details).toMatchObject({ line: 4, column, record: 2 });
    }
  });

  it('counts the error column and offset in bytes, a BOM and multi-byte characters included', async () => {
    const text = '<Event><System><Computer>é中</Computer><EventID>1</EventId></System></Event>';
    const error = await readError(splitEvery(Buffer.concat([BOM, xml(text)]), 3), 'xml');
    const closing = bytes(text.slice(0, text.indexOf('</EventId>') + '</EventId>'.length));

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toBe(`invalid XML at line 1 column ${3 + closing} in record 0: unexpected close tag`);
    expect((error as BodyParseError).details).toEqual({
      line: 1,
      column: 3 + closing,
      offset: 3 + closing - 1,
      record: 0,
    });
  });

  it.each([
    [
      'an unclosed event at the end of the body',
      `${SYSMON_8}\n<Event><System>`,
      /^invalid XML at line 2 .* in record 1: /,
    ],
    ['an unclosed <Events> root', '<Events>\n<Event/>', /^invalid XML at line 2 .* outside any record: /],
    ['an undefined entity', '<Event><EventData><Data>&nbsp;</Data></EventData></Event>', /in record 0: undefined/],
    ['a stray close tag', '<Event/>\n</Events>', /^invalid XML at line 2 column \d+ outside any record: /],
    ['a second XML declaration', '<?xml version="1.0"?><Event/><?xml version="1.0"?>', /^invalid XML at line 1 /],
    ['an attribute without quotes', '<Event><System><Provider Name=x/></System></Event>', /in record 0: /],
  ])('refuses %s', async (_, text, message) => {
    const error = await readError([xml(text)], 'xml');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['an element at top level', `${SYSMON_8}\n<Foo/>`, 2, 'element <Foo> at line 2 column 1 is not an <Event>'],
    [
      'an element in <Events>',
      `<Events>\n${SYSMON_8}\n\n  <Event/><Log/></Events>`,
      4,
      'element <Log> at line 4 column 11',
    ],
    ['stray text', `${SYSMON_8}\r\n\r\n  hello <Event/>`, 3, 'text "hello" at line 3 is outside any <Event> element'],
    ['stray text at the end', `<Event/>\n\nlast words\n\n`, 3, 'text "last words" at line 3 is outside any <Event>'],
    ['text inside <Events>', '<Events>\n<Event/>\nx\n</Events>', 3, 'text "x" at line 3'],
    ['a CDATA section outside', '<Event/>\n<![CDATA[x]]>', 2, 'a CDATA section at line 2 is outside any <Event>'],
    ['a processing instruction', '<Events>\n<?app data?></Events>', 2, 'processing instruction <?app?> at line 2'],
  ])('refuses %s, naming its line', async (_, text, line, message) => {
    for (const [way, chunks] of [
      ['whole', [xml(text)]] as const,
      ['1-byte chunks', splitEvery(xml(text), 1)] as const,
    ]) {
      const error = await readError([...chunks], 'xml');

      expect(error, way).toBeInstanceOf(BodyParseError);
      expect(error.message, way).toContain(message);
      expect((error as BodyParseError).details, way).toMatchObject({ line });
    }
  });

  it.each([
    ['an internal subset with entities', '<!DOCTYPE Events [<!ENTITY x "y">]><Events><Event>&x;</Event></Events>'],
    [
      'a DOCTYPE after the declaration',
      '<?xml version="1.0"?>\n<!DOCTYPE Events SYSTEM "http://example.invalid/x.dtd">',
    ],
    [
      'billion laughs',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Event><Data>&lol2;</Data></Event>',
    ],
    ['a DOCTYPE between events', '<Event/>\n<!DOCTYPE Event>'],
  ])('refuses a DOCTYPE: %s', async (_, text) => {
    const { records, error } = await readUntilError([xml(text)]);

    expect(error).toBeInstanceOf(BodyParseError);
    expect((error as Error).message).toMatch(/^a DOCTYPE declaration at line \d+ column \d+ .*is refused/);
    expect(records.every((r) => !JSON.stringify(r.value).includes('lol'))).toBe(true);
  });

  it('refuses an XML declaration naming an encoding other than UTF-8', async () => {
    const declared = await readError([xml('<?xml version="1.0" encoding="UTF-16"?><Events/>')], 'xml');

    expect(declared).toBeInstanceOf(BodyParseError);
    expect(declared.message).toBe('the XML declaration at line 1 names the encoding "UTF-16"; send the body as UTF-8');
    expect(await read('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Event/>')).toHaveLength(1);
  });

  it('refuses a UTF-16 body, and bytes that are not UTF-8, keeping the records of earlier chunks', async () => {
    const utf16 = await readError([Buffer.from('\uFEFF<Events/>', 'utf16le')], 'xml');
    const good = xml(`${sysmonEvent(0)}\n`);
    const latin1 = Buffer.from("<Event><EventData><Data Name='User'>Zo\xEB</Data></EventData></Event>", 'latin1');
    const { records, error } = await readUntilError([good, latin1]);

    expect(utf16).toBeInstanceOf(BodyParseError);
    expect(utf16.message).toBe(
      'the body is not UTF-8 text (bytes at or after offset 0); send Windows event XML as UTF-8',
    );
    expect(records.map((r) => r.position)).toEqual([0]);
    expect(error).toBeInstanceOf(BodyParseError);
    expect((error as BodyParseError).details).toEqual({ offset: good.length });
  });

  it('refuses a body cut inside a multi-byte character', async () => {
    const body = xml('<Event><EventData><Data>é</Data></EventData></Event>\n');
    const error = await readError([Buffer.concat([body, xml('中').subarray(0, 2)])], 'xml');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toMatch(/^the body is not UTF-8 text/);
  });
});

describe('XML reader: record size limit', () => {
  const small = '<Event><System><EventID>1</EventID></System></Event>';
  const big = `<Event ${NS}><EventData><Data Name='Image'>${'é'.repeat(60)}x</Data></EventData></Event>`;
  const body = xml(`<Events>\r\n${small}\r\n${big}\r\n${small}</Events>`);
  const size = bytes(big);

  it('reads every event when the limit is the largest event size, however the body is cut', async () => {
    for (const [way, chunks] of chunkings(body)) {
      expect(await readAll(chunks, 'xml', { maxRecordBytes: size }), way).toHaveLength(3);
    }
  });

  it('refuses the event one byte below its size, naming the record, its line and the limit', async () => {
    const limit = size - 1;
    const message = `record 1 (line 3) exceeds the ${limit}-byte record limit (INGEST_MAX_RECORD_BYTES)`;
    for (const [way, chunks] of chunkings(body)) {
      const error = await readError(chunks, 'xml', { maxRecordBytes: limit });

      expect(error, way).toBeInstanceOf(PayloadTooLargeError);
      expect(error.message, way).toBe(message);
      expect((error as PayloadTooLargeError).details, way).toEqual({ limitBytes: limit, record: 1, line: 3 });
    }
  });

  it.each([
    ['an event', '<Events>\n<Event/>\n<Event><EventData><Data>', 'x', { record: 1, line: 3 }],
    ['an event start tag', '<Event/><Event a="', 'x', { record: 1, line: 1 }],
    ['an <Events> start tag', '<Events a="', 'x', { line: 1 }],
    ['a processing instruction between events', '<Event/>\n<?app ', 'x', { line: 2 }],
    ['a comment between events', '<Event/>\n<!--', 'x', undefined],
  ] as const)('stops soon after 1 MiB of a 100 MB %s', async (_, prefix, fill, spot) => {
    const MIB = 1024 * 1024;
    const CHUNK = 64 * 1024;
    const chunk = Buffer.alloc(CHUNK, fill);
    const state = { pulled: 0, finished: false };
    async function* source(): AsyncGenerator<Buffer> {
      yield xml(prefix);
      while (state.pulled < 100 * MIB) {
        state.pulled += CHUNK;
        yield chunk;
      }
      state.finished = true;
    }
    let caught: unknown;
    try {
      for await (const batch of readRecords(source(), 'xml', { batchSize: 10, maxRecordBytes: MIB })) void batch;
    } catch (error) {
      caught = error;
    }

    if (spot) {
      expect(caught).toBeInstanceOf(PayloadTooLargeError);
      expect((caught as PayloadTooLargeError).details).toEqual({ limitBytes: MIB, ...spot });
      expect((caught as Error).message).toMatch(/^(record \d+|the <Events> start tag|a processing instruction) \(line/);
      expect(state.finished).toBe(false);
      expect(state.pulled).toBeLessThanOrEqual(MIB + 2 * CHUNK);
    } else {
      // A comment is not a record: it is skipped to its end, none of it kept; only its missing end is refused.
      expect(caught).toBeInstanceOf(BodyParseError);
      expect((caught as Error).message).toMatch(
        /^invalid XML at line 2 column \d+ outside any record: unclosed comment$/,
      );
      expect(state.finished).toBe(true);
    }
  });

  it('refuses an event whose start tag alone is longer than the limit, naming its line', async () => {
    const attribute = xml(`<Event/>\n\n<Event a='${'x'.repeat(300)}'/>`);
    const prefixed = xml(`<Event/>\n\n<${'p'.repeat(300)}:Event/>\n`);
    for (const body of [attribute, prefixed]) {
      for (const chunks of [[body], splitEvery(body, 7)]) {
        const error = await readError(chunks, 'xml', { maxRecordBytes: 100 });

        expect(error).toBeInstanceOf(PayloadTooLargeError);
        expect((error as PayloadTooLargeError).details).toEqual({ limitBytes: 100, record: 1, line: 3 });
      }
    }
  });
});

describe('XML reader: text between events', () => {
  const MIB = 1024 * 1024;
  const CHUNK = 64 * 1024;
  const FIFTY_MIB = 50 * MIB;

  /** `total` characters of `pattern` repeated, made one 64 KiB chunk at a time as they are pulled. */
  function* filler(pattern: string, total: number): Generator<string> {
    const chunk = pattern.repeat(Math.ceil(CHUNK / pattern.length)).slice(0, CHUNK);
    for (let sent = 0; sent < total; sent += chunk.length) yield chunk.slice(0, Math.min(chunk.length, total - sent));
  }

  /** Feeds `before`, the filler and `after` to a reader; the records, and the most kept and heap growth seen. */
  function feedAround(before: string, fill: Iterable<string>, after: string) {
    const reader = new XmlEventReader();
    const heapAtStart = process.memoryUsage().heapUsed;
    const watch = { kept: 0, heapGrowth: 0, filled: 0 };
    const records = reader.feed(before);
    for (const chunk of fill) {
      records.push(...reader.feed(chunk));
      watch.filled += chunk.length;
      watch.kept = Math.max(watch.kept, reader.keptChars);
      watch.heapGrowth = Math.max(watch.heapGrowth, process.memoryUsage().heapUsed - heapAtStart);
    }
    records.push(...reader.feed(after), ...reader.end());

    return { records, ...watch };
  }

  /** A body streamed as bytes: `before`, the filler, `after`, pulled one chunk at a time. */
  async function* streamAround(before: string, fill: Iterable<string>, after: string): AsyncGenerator<Buffer> {
    yield xml(before);
    for (const chunk of fill) yield xml(chunk);
    yield xml(after);
  }

  async function readStreamed(body: AsyncIterable<Buffer>): Promise<{ records: SourceRecord[]; error: unknown }> {
    const records: SourceRecord[] = [];
    try {
      for await (const batch of readRecords(body, 'xml', { batchSize: 1 })) records.push(...batch);
    } catch (error) {
      return { records, error };
    }

    return { records, error: undefined };
  }

  it.each([
    ['between top-level events', '', ''],
    ['inside an <Events> root', '<?xml version="1.0" encoding="utf-8"?>\r\n<Events>\r\n', '\r\n</Events>\r\n'],
  ])('reads 50 MB of newlines %s in bounded memory, the later event on its right line', (_, open, close) => {
    const first = sysmonEvent(1);
    const second = sysmonEvent(2);
    const { records, kept, heapGrowth, filled } = feedAround(
      `${open}${first}`,
      filler('\n', FIFTY_MIB),
      `${second}${close}`,
    );
    const firstLine = 1 + countLines(open);

    expect(filled).toBe(FIFTY_MIB);
    expect(records.map((r) => [r.position, r.line, r.text])).toEqual([
      [0, firstLine, first],
      [1, firstLine + FIFTY_MIB, second],
    ]);
    expect(records[1].value.EventData).toMatchObject({ ProcessId: '1002' });
    expect(kept).toBeLessThanOrEqual(second.length);
    // Holding the newlines (as saxes did before) grows the heap by more than their 50 MB.
    expect(heapGrowth).toBeLessThan(20 * MIB);
  });

  it('keeps line, column and byte offset of a fault right after 50 MB of mixed blanks, bytes streamed', async () => {
    const blanks = ' \t\r\n\u00A0\r\n';
    const blanksText = [...filler(blanks, FIFTY_MIB)].join('');
    const lines = countLines(blanksText);
    const bytesOf = Buffer.byteLength(blanksText);
    const first = `${sysmonEvent(0)}\n`;
    const broken = '<Event><System>\n  <EventID>1</EventId></System></Event>';
    const withoutBlanks = await readError([xml(first + broken)], 'xml');

    const { records, error } = await readStreamed(streamAround(first, filler(blanks, FIFTY_MIB), broken));
    const { details } = withoutBlanks as BodyParseError;

    expect(details).toEqual({
      line: 3,
      column: bytes('  <EventID>1</EventId>'),
      offset: expect.any(Number),
      record: 1,
    });
    expect(records.map((r) => r.position)).toEqual([0]);
    expect(error).toBeInstanceOf(BodyParseError);
    expect((error as BodyParseError).details).toEqual({
      ...details,
      line: (details?.line as number) + lines,
      offset: (details?.offset as number) + bytesOf,
    });
    expect((error as Error).message).toMatch(new RegExp(`^invalid XML at line ${3 + lines} column \\d+ in record 1: `));
  });

  it('names the line of stray text after 50 MB of newlines inside <Events>', async () => {
    const { records, error } = await readStreamed(
      streamAround(`<Events>\n${sysmonEvent(0)}`, filler('\n', FIFTY_MIB), '  stray words\n</Events>'),
    );

    expect(records).toHaveLength(1);
    expect(error).toBeInstanceOf(BodyParseError);
    expect((error as Error).message).toBe(`text "stray words" at line ${2 + FIFTY_MIB} is outside any <Event> element`);
    expect((error as BodyParseError).details).toEqual({ line: 2 + FIFTY_MIB });
  });

  it('skips a 50 MB comment between events in bounded memory', () => {
    const commentLines = [...filler('x-\n', FIFTY_MIB)].reduce((sum, chunk) => sum + countLines(chunk), 0);
    const comment = feedAround(
      `<Events>${sysmonEvent(1)}\n<!--`,
      filler('x-\n', FIFTY_MIB),
      `-->\n${SYSMON_8}</Events>`,
    );

    expect(comment.records.map((r) => [r.position, r.line])).toEqual([
      [0, 1],
      [1, 3 + commentLines],
    ]);
    expect(comment.records[1].value).toEqual(SYSMON_8_VALUE);
    expect(comment.kept).toBeLessThanOrEqual(SYSMON_8.length);
    expect(comment.heapGrowth).toBeLessThan(20 * MIB);
  });

  it('gives the same records however a body with blanks, comments and tricky tags between events is cut', async () => {
    const events = [
      `<Event ${NS}/>`,
      `<Event a='/>' b=">"></Event\r\n  >`,
      "<Event><EventData><Data Name='Event'>Event&gt; / &gt;</Data><Data>-->Event></Data></EventData></Event>",
      `<ev:Event xmlns:ev='urn:ev'><ev:System><ev:EventID>4</ev:EventID></ev:System></ev:Event${' '.repeat(70)}>`,
      '<Event><UserData><Event><Name>inner</Name></Event></UserData></Event>',
      sysmonEvent(6, 'C:\\é\\😀.exe'),
    ];
    const gaps = ['\r\n', ' <!-- a > b - c -->\t', '\u00A0\uFEFF\n', '<!---->', '\n<!-- Event> />\n-->\n\n', ''];
    const inside = events.map((event, k) => event + gaps[k]).join('');
    const text = `<?xml version='1.0'?>\n<Events a='x>y' b="/>">${inside}</Events>\n`;
    const body = Buffer.concat([BOM, xml(text)]);
    const whole = await readAll([body], 'xml');

    expect(whole.map((r) => r.text)).toEqual(events);
    expect(whole.map((r) => r.line)).toEqual([2, 3, 4, 5, 5, 9]);
    expect(whole[2].value.EventData).toEqual({ Event: 'Event> / >', Data: ['-->Event>'] });
    expect(whole[4].value.UserData).toEqual({ Event: { Name: 'inner' } });
    for (const [way, chunks] of chunkings(body)) expect(await readAll(chunks, 'xml'), way).toEqual(whole);
  });

  it.each([
    [
      'a malformed comment',
      '<Event/>\n<!-- a -- b -->',
      'invalid XML at line 2 column 10 outside any record: malformed comment',
    ],
    [
      'a forbidden character in a comment',
      '<Event/>\n<!-- \u0001 -->',
      'line 2 column 6 outside any record: disallowed',
    ],
    [
      'an unclosed comment',
      '<Events>\n<Event/>\n  <!-- x',
      'invalid XML at line 3 column 9 outside any record: unclosed',
    ],
    [
      'a "<" at the end of the body',
      '<Event/>\n<',
      'invalid XML at line 2 column 1 outside any record: unexpected end',
    ],
  ])('refuses %s between events, naming where', async (_, text, message) => {
    for (const chunks of [[xml(text)], splitEvery(xml(text), 1)]) {
      const error = await readError(chunks, 'xml');

      expect(error).toBeInstanceOf(BodyParseError);
      expect(error.message).toContain(message);
    }
  });

  it('refuses a tag between events longer than the record limit, naming what it is', async () => {
    const body = xml(`<Event/>\n<Events a='${'x'.repeat(300)}'>\n<Event/></Events>`);
    for (const chunks of [[body], splitEvery(body, 7)]) {
      const error = await readError(chunks, 'xml', { maxRecordBytes: 100 });

      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error.message).toBe(
        'the <Events> start tag (line 2) exceeds the 100-byte record limit (INGEST_MAX_RECORD_BYTES)',
      );
      expect((error as PayloadTooLargeError).details).toEqual({ limitBytes: 100, line: 2 });
    }
  });
});

function countLines(text: string): number {
  return text.split('\n').length - 1;
}

const WUAUCLT = 'otrf-security-datasets/extracts/covenant_lolbin_wuauclt_createremotethread.extract.ndjson';

/** An NXLog line rendered back as the Sysmon event XML it came from. */
function nxlogToEventXml(row: Record<string, unknown>, dataNames: string[], raw: Set<string>): string {
  const value = (name: string) => (raw.has(name) ? String(row[name]) : escapeXml(String(row[name])));
  const keywords = BigInt.asUintN(64, BigInt(row.Keywords as number)).toString(16);
  const system =
    `<Provider Name='${row.SourceName}' Guid='${row.ProviderGuid}'/><EventID>${row.EventID}</EventID>` +
    `<Version>${row.Version}</Version><Level>4</Level><Task>${row.Task}</Task><Opcode>${row.OpcodeValue}</Opcode>` +
    `<Keywords>0x${keywords}</Keywords><TimeCreated SystemTime='${row['@timestamp']}'/>` +
    `<EventRecordID>${row.RecordNumber}</EventRecordID><Correlation/>` +
    `<Execution ProcessID='${row.ExecutionProcessID}' ThreadID='${row.ThreadID}'/><Channel>${row.Channel}</Channel>` +
    `<Computer>${row.Hostname}</Computer><Security UserID='${row.UserID}'/>`;
  const data = dataNames.map((name) => `<Data Name='${name}'>${value(name)}</Data>`).join('');

  return `<Event ${NS}><System>${system}</System><EventData>${data}</EventData></Event>`;
}

describe.skipIf(!hasSharedFile(WUAUCLT))(`real OTRF Sysmon event 8 rendered as XML (${WUAUCLT})`, () => {
  const row = () => {
    const line = readFileSync(sharedFile(WUAUCLT), 'utf8')
      .split('\n')
      .find((text) => /"EventID":8[,}]/.test(text));

    return JSON.parse(line as string) as Record<string, unknown>;
  };
  /** The EventData names, in Sysmon's order, from the rendered Message ("Name: value" lines). */
  const dataNames = (message: string) =>
    message
      .split('\r\n')
      .slice(1)
      .map((line) => line.slice(0, line.indexOf(':')));

  it('reads the System fields and round-trips every EventData value', async () => {
    const event = row();
    const names = dataNames(event.Message as string);
    const text = nxlogToEventXml(event, names, new Set());
    const [record] = await readAll(splitEvery(xml(`<Events>\r\n${text}\r\n</Events>`), 97), 'xml');

    expect(names).toContain('TargetImage');
    expect(record.text).toBe(text);
    expect(record.value.System).toMatchObject({
      Provider: { Name: 'Microsoft-Windows-Sysmon', Guid: event.ProviderGuid },
      EventID: '8',
      EventRecordID: String(event.RecordNumber),
      Keywords: '0x8000000000000000',
      TimeCreated: { SystemTime: event['@timestamp'] },
      Execution: { ProcessID: String(event.ExecutionProcessID), ThreadID: String(event.ThreadID) },
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'WORKSTATION5.theshire.local',
      Security: { UserID: 'S-1-5-18' },
    });
    expect(record.value.EventData).toEqual(Object.fromEntries(names.map((name) => [name, String(event[name])])));
  });

  it('decodes the TargetImage NXLog kept in its XML-escaped form to what the rendered Message says', async () => {
    const event = row();
    const names = dataNames(event.Message as string);
    const [record] = await read(nxlogToEventXml(event, names, new Set(['TargetImage'])));

    expect(event.TargetImage).toBe('&lt;unknown process&gt;');
    expect((record.value.EventData as Record<string, unknown>).TargetImage).toBe('<unknown process>');
    expect(event.Message).toContain('TargetImage: <unknown process>\r\n');
  });
});
