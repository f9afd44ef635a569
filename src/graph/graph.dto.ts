import { EmptyAsAbsent, EnumField, IntField } from '../common/api-field.decorators.js';

export const GRAPH_FORMATS = ['json', 'cytoscape', 'gexf'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export class GraphQueryDto {
  @EmptyAsAbsent()
  @EnumField({
    description: "json: graphology's serialised graph (default); cytoscape: Cytoscape.js elements; gexf: GEXF 1.3 XML",
    values: GRAPH_FORMATS,
    optional: true,
  })
  format?: GraphFormat;

  @EmptyAsAbsent()
  @IntField({
    description: 'Most events of each kind drawn, newest first (default 5000)',
    min: 1,
    max: 50000,
    optional: true,
  })
  limit?: number;
}
