import { EmptyAsAbsent, EnumField, IntField, IsoTimeField } from '../common/api-field.decorators.js';

import { GRAPH_EXPORT_FORMATS, type GraphExportFormat } from './graph.export.js';

/**
 * One vocabulary on the three graph routes: `depth` counts hops from the graph's focus, following edges either way;
 * `limit` counts events on the device graph (what is read) and nodes on the other two (what is drawn).
 */
const FORMAT_DESCRIPTION =
  "json: graphology's serialised graph (default); cytoscape: Cytoscape.js elements, graph attributes in `data`; " +
  'gexf: GEXF 1.3 XML (Gephi; bounds and counts in its meta description); graphml: GraphML XML (Cytoscape desktop, ' +
  'yEd; bounds and counts as graph data keys; Gephi merges its parallel edges, so use gexf there)';
const MAX_DEPTH = 6;
const FROM_DESCRIPTION =
  'Only events at or after this time (ISO 8601; an offset or Z, up to 7 fraction digits) are drawn: each edge keeps ' +
  'its occurrences in the window, nodes left without an edge go';
const TO_DESCRIPTION = 'Only events at or before this time (ISO 8601); not before from';

/** What every graph route takes: the export format. */
class GraphFormatQueryDto {
  @EmptyAsAbsent()
  @EnumField({ description: FORMAT_DESCRIPTION, values: GRAPH_EXPORT_FORMATS, optional: true })
  format?: GraphExportFormat;
}

/** The graph routes drawn from a device's events: the format and a time window. */
class WindowedGraphQueryDto extends GraphFormatQueryDto {
  @EmptyAsAbsent()
  @IsoTimeField({ description: FROM_DESCRIPTION, optional: true })
  from?: string;

  @EmptyAsAbsent()
  @IsoTimeField({ description: TO_DESCRIPTION, optional: true })
  to?: string;
}

export class DeviceGraphQueryDto extends WindowedGraphQueryDto {
  @EmptyAsAbsent()
  @IntField({
    description:
      'Most events of each kind drawn, the newest within from/to first (default 5000): Defender injections, ' +
      'Defender ADWS connections, Sysmon events; truncated says when the window held more',
    min: 1,
    max: 50000,
    optional: true,
  })
  limit?: number;

  @EmptyAsAbsent()
  @IntField({
    description:
      'Only nodes within this many hops of the injections and ADWS connections (0: their processes and endpoints ' +
      'alone; each hop adds process accesses and creations around them). Absent: the whole graph',
    min: 0,
    max: MAX_DEPTH,
    optional: true,
  })
  depth?: number;
}

export class ProcessGraphQueryDto extends WindowedGraphQueryDto {
  @EmptyAsAbsent()
  @IntField({
    description: 'Hops from the process, following edges either way (default 2)',
    min: 0,
    max: MAX_DEPTH,
    optional: true,
  })
  depth?: number;

  @EmptyAsAbsent()
  @IntField({
    description: 'Most nodes drawn, nearest first, ties by key (default 500); truncated says when it cut',
    min: 1,
    max: 5000,
    optional: true,
  })
  limit?: number;
}

export class AlertGraphQueryDto extends GraphFormatQueryDto {
  @EmptyAsAbsent()
  @IntField({
    description:
      "0 (default): the alert's own paths, each edge with only the events the alert cites; n: plus every node within " +
      'n hops of them in the device graph, edges with all their events',
    min: 0,
    max: MAX_DEPTH,
    optional: true,
  })
  depth?: number;

  @EmptyAsAbsent()
  @IntField({
    description:
      "Most nodes drawn (default 500), the alert's own first, then nearest first; truncated says when it cut",
    min: 1,
    max: 5000,
    optional: true,
  })
  limit?: number;
}
