import type { CompiledChart, StateNode, Transition } from '../model/chart.js';
import { DEFAULT_MAX_COND, isContainer, transitionLabel, within } from './labels.js';
import type { Highlight } from './trace-highlight.js';

/**
 * A chart as a Graphviz DOT digraph.
 *
 * - `<state>` with children and `<parallel>`: a cluster `cluster_<id>` holding an invisible
 *   anchor node named `<id>`; edges to or from the state end at the anchor and are clipped to
 *   the cluster's border with `lhead`/`ltail` (`compound=true`). Where the other end lies inside
 *   the same cluster (a child's transition to its parent, a self-loop), the clip is left off:
 *   Graphviz cannot clip an edge to a cluster that contains both ends.
 * - Parallel clusters have a bold border and `(parallel)` in their label; each of their
 *   regions (child clusters and child nodes) has a dashed border.
 * - Atomic states: rounded boxes; `<final>`: double circles; `<history>`: circles labelled `H`
 *   (shallow) or `H*` (deep), the history's default transition drawn dashed.
 * - Initial transitions: a small filled point `[initial] <id>` inside each compound (and at the
 *   top for the document), with an edge to each initial target.
 * - Transitions: one edge per target, labelled with the event descriptors, `[cond]` (cut at
 *   `maxCondLength`; the whole of it is the edge tooltip) and `(internal)`. Targetless
 *   transitions are dotted self-loops.
 * - Node names are the state ids (so an SVG's `<title>`s are the ids); every name, label and
 *   tooltip is a quoted DOT string with `\` and `"` escaped, so ids with `.`, `-` or `:` are safe.
 * - Everything comes out in document order, so the same chart gives the same text.
 *
 * With a highlight (from a trace): entered states are filled, states active at the end have a
 * thick orange border, transitions taken are thick and blue with `(<count>x)` in the label, and
 * everything the trace did not touch is grey. Each state's node or cluster has the SVG id
 * `state-<id>`, each transition's edge `t<index>` (`t<index>-<k>` for its k-th extra target). SVG classes: `visited`, `active`, `taken`,
 * `transition`, `state`, `initial`.
 */
export interface DotOptions {
  readonly highlight?: Highlight | null;
  /** Graphviz rank direction. Default TB. */
  readonly rankdir?: 'TB' | 'LR' | 'BT' | 'RL';
  /** Longest cond shown in an edge label; longer ones are cut with '...'. */
  readonly maxCondLength?: number;
}

export const DOT_COLORS = {
  visitedFill: '#d0ebff',
  visitedClusterFill: '#eef6ff',
  activeBorder: '#e8590c',
  activeFill: '#ffe8cc',
  taken: '#1971c2',
  untouched: '#adb5bd',
  untouchedText: '#868e96',
} as const;

type Attrs = Record<string, string | number | undefined>;

/** A DOT quoted string; `\` and `"` escaped, line breaks as `\n` (centred lines). */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r\n|\r|\n/g, '\\n')}"`;
}

/** A label made of lines: each line escaped, joined with DOT's `\n` line break. */
function dotLines(lines: readonly string[]): string {
  return `"${lines.map((l) => dotString(l).slice(1, -1)).join('\\n')}"`;
}

function attrList(attrs: Attrs, raw: Record<string, string> = {}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) parts.push(`${k}=${dotString(String(v))}`);
  for (const [k, v] of Object.entries(raw)) parts.push(`${k}=${v}`);
  return parts.length ? ` [${parts.join(', ')}]` : '';
}

/** The cluster name of a container state. */
export function clusterName(s: StateNode): string {
  return `cluster_${s.id}`;
}

/** The name of the initial point of a compound state (or of the document, for the root). */
export function initialPointName(s: StateNode): string {
  return `[initial] ${s.kind === 'scxml' ? '(document)' : s.id}`;
}

export function chartToDot(chart: CompiledChart, options: DotOptions = {}): string {
  const hl = options.highlight ?? null;
  const maxCond = options.maxCondLength ?? DEFAULT_MAX_COND;
  const out: string[] = [];
  const line = (depth: number, text: string) => out.push(`${'  '.repeat(depth)}${text}`);

  const name = chart.name ?? 'scxml';
  line(0, `digraph ${dotString(name)} {`);
  line(1, `compound=true;`);
  line(1, `rankdir=${options.rankdir ?? 'TB'};`);
  // Some slack around the drawing: renderers whose fallback font is wider than the Helvetica
  // metrics Graphviz lays out with would otherwise clip the outermost labels.
  line(1, `pad=0.3;`);
  line(1, `fontname="Helvetica"; fontsize=10;`);
  if (hl) {
    const n = hl.entered.size;
    const m = [...hl.taken.values()].reduce((a, b) => a + b, 0);
    line(1, `label=${dotLines([`trace: ${n} state(s) entered, ${m} transition(s) taken`,
      'filled: entered, orange: active at the end', 'blue (Nx): taken N times'])}; labelloc=b;`);
  }
  line(1, `node [fontname="Helvetica", fontsize=11];`);
  line(1, `edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];`);

  const root = chart.root;
  if (root.initial) line(1, `${dotString(initialPointName(root))}${attrList(initialAttrs())};`);
  for (const child of root.children) emitState(child, 1);

  // Edges: initial transitions (document order of their compounds), then transitions
  // (document order), then the default transitions of history states.
  for (const s of chart.states) {
    if (s.kind !== 'scxml' && s.kind !== 'state') continue;
    if (!s.initial || (s.kind === 'state' && s.children.length === 0)) continue;
    for (const target of s.initial.targets) {
      const { head, attrs } = endpoints(null, target);
      line(1, `${dotString(initialPointName(s))} -> ${head}${attrList({ ...attrs, class: 'initial', color: hl ? DOT_COLORS.untouchedText : undefined })};`);
    }
  }
  for (const t of chart.transitions) emitTransition(t);
  for (const s of chart.states) {
    if (s.kind !== 'history' || !s.initial) continue;
    for (const target of s.initial.targets) {
      const { tail, head, attrs } = endpoints(s, target);
      line(1, `${tail} -> ${head}${attrList({ ...attrs, style: 'dashed', class: 'history-default', tooltip: `${s.id}: default history transition`, color: hl ? DOT_COLORS.untouchedText : undefined })};`);
    }
  }
  line(0, '}');
  return `${out.join('\n')}\n`;

  function initialAttrs(): Attrs {
    return { shape: 'point', width: 0.12, height: 0.12, style: 'filled', fillcolor: 'black', label: '', class: 'initial' };
  }

  function emitState(s: StateNode, depth: number): void {
    const region = s.parent?.kind === 'parallel';
    const entered = hl?.entered.has(s) ?? false;
    const active = hl?.active.has(s) ?? false;
    const kindClass = s.kind === 'state' ? (isContainer(s) ? 'compound' : 'atomic') : s.kind;
    const id = `state-${s.id}`;
    const classes = ['state', kindClass, ...(entered ? ['visited'] : []), ...(active ? ['active'] : [])].join(' ');
    if (isContainer(s)) {
      line(depth, `subgraph ${dotString(clusterName(s))} {`);
      const style = ['rounded', ...(s.kind === 'parallel' ? ['bold'] : []), ...(region ? ['dashed'] : []), ...(entered ? ['filled'] : [])];
      const graphAttrs: Attrs = {
        label: s.kind === 'parallel' ? `${s.id} (parallel)` : s.id,
        style: style.join(','),
        fontsize: 12,
        labeljust: 'l',
        labelloc: 't',
        tooltip: `${s.kind === 'parallel' ? 'parallel' : 'state'} ${s.id}`,
        id,
        class: classes,
        ...(entered ? { fillcolor: DOT_COLORS.visitedClusterFill } : {}),
        ...(active ? { color: DOT_COLORS.activeBorder, penwidth: 2.5 } : hl && !entered ? { color: DOT_COLORS.untouched, fontcolor: DOT_COLORS.untouchedText } : {}),
      };
      for (const [k, v] of Object.entries(graphAttrs)) if (v !== undefined) line(depth + 1, `${k}=${dotString(String(v))};`);
      // The anchor: an invisible point that edges to/from the cluster end at (clipped by lhead/ltail).
      line(depth + 1, `${dotString(s.id)}${attrList({ shape: 'point', style: 'invis', width: 0.01, height: 0.01, label: '', class: 'anchor' })};`);
      if (s.kind === 'state' && s.initial) line(depth + 1, `${dotString(initialPointName(s))}${attrList(initialAttrs())};`);
      for (const c of s.children) emitState(c, depth + 1);
      // Keep the anchor above everything in the cluster: edges from a child to this state
      // (which cannot be clipped to the border) then end at its top, under the label.
      const below = [...(s.kind === 'state' && s.initial ? [initialPointName(s)] : []), ...s.children.map((c) => c.id)];
      for (const b of below) line(depth + 1, `${dotString(s.id)} -> ${dotString(b)} [style="invis"];`);
      line(depth, '}');
      return;
    }
    const style: string[] = [];
    const attrs: Attrs = { id, class: classes };
    switch (s.kind) {
      case 'final':
        Object.assign(attrs, { shape: 'doublecircle', label: s.id, margin: 0.02, tooltip: `final ${s.id}` });
        break;
      case 'history':
        Object.assign(attrs, {
          shape: 'circle', label: s.historyType === 'deep' ? 'H*' : 'H', width: 0.35, fixedsize: 'true',
          tooltip: `${s.historyType ?? 'shallow'} history ${s.id}`,
        });
        break;
      default:
        Object.assign(attrs, { shape: 'box', label: s.id, tooltip: `state ${s.id}` });
        style.push('rounded');
    }
    if (region) style.push('dashed');
    if (entered) {
      style.push('filled');
      attrs.fillcolor = active ? DOT_COLORS.activeFill : DOT_COLORS.visitedFill;
    }
    if (active) Object.assign(attrs, { color: DOT_COLORS.activeBorder, penwidth: 3 });
    else if (hl && !entered) Object.assign(attrs, { color: DOT_COLORS.untouched, fontcolor: DOT_COLORS.untouchedText });
    if (style.length) attrs.style = style.join(',');
    line(depth, `${dotString(s.id)}${attrList(attrs)};`);
  }

  /**
   * Tail and head node names for an edge between two states, with ltail/lhead for the ones
   * drawn as clusters, unless the other end is inside that cluster (Graphviz would ignore the
   * clip with a warning and draw the edge to the anchor anyway).
   */
  function endpoints(source: StateNode | null, target: StateNode): { tail: string; head: string; attrs: Attrs } {
    const attrs: Attrs = {};
    if (source && isContainer(source) && !within(target, source)) attrs.ltail = clusterName(source);
    if (isContainer(target) && !(source && within(source, target))) attrs.lhead = clusterName(target);
    return { tail: source ? dotString(source.id) : '', head: dotString(target.id), attrs };
  }

  function emitTransition(t: Transition): void {
    const label = transitionLabel(t, maxCond);
    const lines = [label.events, label.cond, label.internal].filter((x): x is string => x !== null);
    const count = hl?.taken.get(t) ?? 0;
    if (count > 0) lines.push(`(${count}x)`);
    const common: Attrs = {
      label: undefined,
      tooltip: label.full,
      class: count > 0 ? 'transition taken' : 'transition',
      ...(count > 0 ? { color: DOT_COLORS.taken, fontcolor: DOT_COLORS.taken, penwidth: 2.5 } : hl ? { color: DOT_COLORS.untouched, fontcolor: DOT_COLORS.untouchedText } : {}),
    };
    const raw: Record<string, string> = lines.length ? { label: dotLines(lines) } : {};
    if (t.targets.length === 0) {
      // Targetless: a dotted self-loop on the source (its anchor, for a cluster).
      line(1, `${dotString(t.source.id)} -> ${dotString(t.source.id)}${attrList({ ...common, id: `t${t.index}`, style: 'dotted' }, raw)};`);
      return;
    }
    t.targets.forEach((target, k) => {
      const { tail, head, attrs } = endpoints(t.source, target);
      line(1, `${tail} -> ${head}${attrList({ ...attrs, ...common, id: k === 0 ? `t${t.index}` : `t${t.index}-${k}` }, raw)};`);
    });
  }
}
