/** Diagrams of charts: DOT, Mermaid and SVG, optionally highlighted from a trace. */
export { chartToDot, dotString, clusterName, initialPointName, DOT_COLORS, type DotOptions } from './dot.js';
export { chartToMermaid, mermaidIds, mermaidText, type MermaidOptions } from './mermaid.js';
export { dotToSvg, GraphvizError, type SvgResult } from './svg.js';
export {
  parseTraceJsonl, computeHighlight, defaultSession, matchTransition, TraceParseError,
  type Highlight, type HighlightOptions, type TraceRecord,
} from './trace-highlight.js';
