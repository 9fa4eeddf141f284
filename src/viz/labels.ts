import type { StateNode, Transition } from '../model/chart.js';

/** Default longest `[cond]` shown on a diagram before it is cut with '...'. */
export const DEFAULT_MAX_COND = 40;

/** The parts of a transition's label, each already a line of text (or null when absent). */
export interface TransitionLabel {
  /** The event descriptors as written (`a.b c.*`), or null for an eventless transition. */
  readonly events: string | null;
  /** `[cond]`, cut to `maxCond` characters, or null. */
  readonly cond: string | null;
  /** `(internal)` for `type="internal"`, else null. */
  readonly internal: string | null;
  /** Everything, with the whole cond: for tooltips. */
  readonly full: string;
}

export function transitionLabel(t: Transition, maxCond = DEFAULT_MAX_COND): TransitionLabel {
  const events = t.events.length ? t.events.join(' ') : null;
  const condText = t.cond ? oneLine(t.cond.source) : null;
  const cond = condText === null ? null : `[${cut(condText, maxCond)}]`;
  const internal = t.type === 'internal' ? '(internal)' : null;
  const targets = t.targets.length ? t.targets.map((s) => s.id).join(' ') : '(targetless)';
  const full = [`${t.source.id} -> ${targets}`, events, condText === null ? null : `[${condText}]`, internal]
    .filter((x): x is string => x !== null).join(' ');
  return { events, cond, internal, full };
}

/** Whitespace runs (newlines included) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 3))}...`;
}

/** Drawn as a cluster (dot) or composite state (mermaid): a state with children, or any parallel. */
export function isContainer(s: StateNode): boolean {
  return s.kind === 'parallel' || (s.kind === 'state' && s.children.length > 0);
}

/** True when `inner` is `outer` or one of its descendants. */
export function within(inner: StateNode, outer: StateNode): boolean {
  return inner === outer || inner.ancestors.includes(outer);
}
