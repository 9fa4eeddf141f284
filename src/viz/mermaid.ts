import type { CompiledChart, StateNode } from '../model/chart.js';
import { DEFAULT_MAX_COND, isContainer, transitionLabel } from './labels.js';
import type { Highlight } from './trace-highlight.js';

/**
 * A chart as a Mermaid `stateDiagram-v2`.
 *
 * - `<state>` with children and `<parallel>`: composite states (`state X { … }`); the children
 *   of a parallel are separated by `--`, one region each.
 * - `[*] --> x` inside each compound (and at the top) for its initial transition; `f --> [*]`
 *   for each `<final>`, inside its parent.
 * - History states: `H`/`H*` followed by the id, e.g. `state "H* hist" as hist`.
 * - Transitions: `a --> b : event [cond] (internal)`, one per target; targetless ones are
 *   self-loops with `(targetless)` in the label. A transition goes in the block of the
 *   nearest composite that contains both ends; when that composite is a parallel, in the
 *   block above it (a line after the last `--` would belong to the last region).
 *
 * Ids: Mermaid state ids are safest as `[A-Za-z0-9_]`, so each id is mapped (see mermaidIds):
 * every other character becomes `_`; an id that then starts with a digit or is a Mermaid
 * keyword gets the prefix `s_`; an id that collides with one mapped before it (document
 * order) gets `_2`, `_3`, …. Whenever the mapped id differs from the original, the state is
 * declared `state "original.id" as original_id`, so the diagram still shows the real id, and
 * a `%% original -> mapped` comment lists the mapping at the top.
 *
 * Label text is written as it is, except what Mermaid would misread (checked against Mermaid
 * 11 rendering in a browser; its `#59;` entity codes are not decoded in state-diagram labels):
 * line breaks become spaces; `;`, which ends a statement, becomes U+037E (GREEK QUESTION MARK,
 * drawn like a semicolon); a `<` or `&` directly followed by a letter (or `/`, `!`, `?`, `#`)
 * gets a space after it, so the label's HTML cannot read it as a tag or an entity.
 *
 * With a highlight: `classDef visited` on every entered state, `classDef active` on the states
 * active at the end, and `(<count>x)` on the label of every transition taken.
 */
export interface MermaidOptions {
  readonly highlight?: Highlight | null;
  readonly maxCondLength?: number;
}

const KEYWORDS = new Set([
  'state', 'note', 'end', 'class', 'classdef', 'style', 'direction', 'hide', 'scale', 'as', 'left', 'right', 'of',
  'over', 'fork', 'join', 'choice', 'default', 'acctitle', 'accdescr', 'click', 'call', 'href', 'td', 'lr', 'rl', 'bt', 'tb',
  'statediagram', 'statediagram-v2', 'graph', 'flowchart', 'subgraph',
]);

/** The Mermaid id of every state (not the document root), per the mapping described above. */
export function mermaidIds(chart: CompiledChart): Map<StateNode, string> {
  const ids = new Map<StateNode, string>();
  const used = new Set<string>();
  for (const s of chart.states) {
    if (s.kind === 'scxml') continue;
    let base = s.id.replace(/[^A-Za-z0-9_]/g, '_');
    if (/^[0-9]/.test(base) || base === '' || KEYWORDS.has(base.toLowerCase())) base = `s_${base}`;
    let id = base;
    for (let n = 2; used.has(id.toLowerCase()); n++) id = `${base}_${n}`;
    used.add(id.toLowerCase());
    ids.set(s, id);
  }
  return ids;
}

/** Text safe after `:` in a Mermaid transition or inside a quoted state description. */
export function mermaidText(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
    .replace(/;/g, '\u037e')
    .replace(/<(?=[A-Za-z/!?])/g, '< ')
    .replace(/&(?=[A-Za-z#])/g, '& ');
}

export function chartToMermaid(chart: CompiledChart, options: MermaidOptions = {}): string {
  const hl = options.highlight ?? null;
  const maxCond = options.maxCondLength ?? DEFAULT_MAX_COND;
  const ids = mermaidIds(chart);
  const mid = (s: StateNode) => ids.get(s)!;
  const out: string[] = [];
  const line = (depth: number, text: string) => out.push(`${'  '.repeat(depth)}${text}`);

  // Transitions, by the block they are written in (root or a non-parallel composite).
  const edgesByBlock = new Map<StateNode, string[]>();
  const addEdge = (block: StateNode, text: string) => {
    let list = edgesByBlock.get(block);
    if (!list) edgesByBlock.set(block, (list = []));
    list.push(text);
  };
  for (const t of chart.transitions) {
    const label = transitionLabel(t, maxCond);
    const parts = [label.events, label.cond, label.internal, t.targets.length ? null : '(targetless)'];
    const count = hl?.taken.get(t) ?? 0;
    if (count > 0) parts.push(`(${count}x)`);
    const text = parts.filter((x): x is string => x !== null).map(mermaidText).join(' ');
    const targets = t.targets.length ? t.targets : [t.source];
    for (const target of targets) addEdge(blockOf(t.source, [target]), `${mid(t.source)} --> ${mid(target)}${text ? ` : ${text}` : ''}`);
  }
  for (const h of chart.states) {
    if (h.kind !== 'history' || !h.initial) continue;
    for (const target of h.initial.targets) addEdge(blockOf(h, [target]), `${mid(h)} --> ${mid(target)}`);
  }

  line(0, 'stateDiagram-v2');
  line(1, `%% ${mermaidComment(chart.name ?? chart.file)}: generated by run-scxml viz`);
  for (const s of chart.states) {
    if (s.kind !== 'scxml' && mid(s) !== s.id) line(1, `%% ${mermaidComment(s.id)} -> ${mid(s)}`);
  }
  emitBody(chart.root, 1);

  if (hl) {
    line(1, 'classDef visited fill:#d0ebff,stroke:#1971c2');
    line(1, 'classDef active fill:#ffe8cc,stroke:#e8590c,stroke-width:3px');
    const entered = chart.states.filter((s) => hl.entered.has(s)).map(mid);
    const active = chart.states.filter((s) => s.kind !== 'scxml' && hl.active.has(s)).map(mid);
    if (entered.length) line(1, `class ${entered.join(',')} visited`);
    if (active.length) line(1, `class ${active.join(',')} active`);
  }
  return `${out.join('\n')}\n`;

  /** The contents of the root or of a compound: initial, children, transitions, finals. */
  function emitBody(s: StateNode, depth: number): void {
    if (s.initial && (s.kind === 'scxml' || s.children.length > 0)) {
      for (const target of s.initial.targets) line(depth, `[*] --> ${mid(target)}`);
    }
    for (const c of s.children) emitState(c, depth);
    for (const e of edgesByBlock.get(s) ?? []) line(depth, e);
    for (const c of s.children) if (c.kind === 'final') line(depth, `${mid(c)} --> [*]`);
  }

  function emitState(s: StateNode, depth: number): void {
    const id = mid(s);
    if (isContainer(s)) {
      line(depth, `${declaration(s.id, id)} {`);
      if (s.kind === 'parallel') {
        // One region per child; history children go with the first region.
        const regions = s.children.filter((c) => c.kind !== 'history');
        const histories = s.children.filter((c) => c.kind === 'history');
        for (const h of histories) emitState(h, depth + 1);
        regions.forEach((r, i) => {
          if (i > 0) line(depth + 1, '--');
          emitState(r, depth + 1);
        });
      } else {
        emitBody(s, depth + 1);
      }
      line(depth, '}');
      return;
    }
    if (s.kind === 'history') {
      line(depth, `state "${s.historyType === 'deep' ? 'H*' : 'H'} ${mermaidText(s.id)}" as ${id}`);
      return;
    }
    line(depth, s.id === id ? id : declaration(s.id, id));
  }

  function declaration(label: string, id: string): string {
    return label === id ? `state ${id}` : `state "${mermaidText(label)}" as ${id}`;
  }

  /**
   * The block a transition is written in: the nearest proper ancestor of the source that
   * contains every target as a proper descendant, lifted out of parallels.
   */
  function blockOf(source: StateNode, targets: readonly StateNode[]): StateNode {
    let block = source.ancestors.find((a) => targets.every((t) => t.ancestors.includes(a))) ?? chart.root;
    while (block.kind === 'parallel' && block.parent) block = block.parent;
    return block;
  }
}

function mermaidComment(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

