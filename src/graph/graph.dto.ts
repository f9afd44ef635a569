import { EmptyAsAbsent, EnumField, IntField } from '../common/api-field.decorators.js';

import { GRAPH_EXPORT_FORMATS, type GraphExportFormat } from './graph.export.js';

export class GraphQueryDto {
  @EmptyAsAbsent()
  @EnumField({
    description:
      "json: graphology's serialised graph (default); cytoscape: Cytoscape.js elements; gexf: GEXF 1.3 XML; " +
      'graphml: GraphML XML (Cytoscape desktop, Gephi, yEd)',
    values: GRAPH_EXPORT_FORMATS,
    optional: true,
  })
  format?: GraphExportFormat;

  @EmptyAsAbsent()
  @IntField({
    description: 'Device graphs: most events of each kind drawn, newest first (default 5000); alert graphs ignore it',
    min: 1,
    max: 50000,
    optional: true,
  })
  limit?: number;
}

export class ProcessGraphQueryDto {
  @EmptyAsAbsent()
  @EnumField({ description: 'As for device graphs (default json)', values: GRAPH_EXPORT_FORMATS, optional: true })
  format?: GraphExportFormat;

  @EmptyAsAbsent()
  @IntField({
    description: 'Hops from the process, following edges either way (default 2)',
    min: 0,
    max: 6,
    optional: true,
  })
  depth?: number;

  @EmptyAsAbsent()
  @IntField({
    description: 'Most nodes drawn, nearest first (default 500); truncated says when it cut',
    min: 1,
    max: 5000,
    optional: true,
  })
  limit?: number;
}
