import type { CompiledChart, StateNode, Transition } from '../model/chart.js';

/**
 * What a trace says about a chart, in the chart's own terms: the states entered, the states
 * active at the end, and how often each transition was taken. The diagram writers (dot,
 * mermaid) take it as an option and highlight from it.
 */
export interface Highlight {
  /** States entered at least once (from `enter` records). */
  readonly entered: ReadonlySet<StateNode>;
  /** States active when the trace ends (the last `macrostep` configuration, with its ancestors). */
  readonly active: ReadonlySet<StateNode>;
  /** Transitions taken (from `microstep` records), with how many times. */
  readonly taken: ReadonlyMap<Transition, number>;
  /** The session the highlight was computed for. */
  readonly session: string | null;
  /** Things in the trace that do not fit the chart (unknown state ids, unmatched transitions). */
  readonly warnings: readonly string[];
}

/** A trace record as read back from JSONL: only the fields the highlighter looks at are typed. */
export interface TraceRecord {
  readonly type: string;
  readonly session?: string;
  readonly [field: string]: unknown;
}

/** A trace file that cannot be read as JSONL: the message names the file and line. */
export class TraceParseError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'TraceParseError';
  }
}

/**
 * Parses JSONL trace text: one JSON object per line, blank lines ignored. Throws a
 * TraceParseError (with the 1-based line number) on a line that is not JSON or not an object
 * with a string `type`.
 */
export function parseTraceJsonl(text: string, file = '<trace>'): TraceRecord[] {
  const out: TraceRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new TraceParseError(file, i + 1, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
      throw new TraceParseError(file, i + 1, 'not a trace record (expected a JSON object with a string "type")');
    }
    out.push(value as TraceRecord);
  }
  return out;
}

export interface HighlightOptions {
  /**
   * The session to highlight. Default: the first session in the trace that has no parent (the
   * one `run-scxml run` started), or else the first session seen. Records of other sessions
   * (invoked children) are ignored.
   */
  readonly session?: string;
}

/** The session a trace is mostly about: the first top-level `session.start`, else the first session seen. */
export function defaultSession(records: readonly TraceRecord[]): string | null {
  for (const r of records) if (r.type === 'session.start' && (r.parent ?? null) === null && typeof r.session === 'string') return r.session;
  for (const r of records) if (typeof r.session === 'string') return r.session;
  return null;
}

/** Computes what to highlight in `chart` from the trace `records`. */
export function computeHighlight(chart: CompiledChart, records: readonly TraceRecord[], options: HighlightOptions = {}): Highlight {
  const session = options.session ?? defaultSession(records);
  const entered = new Set<StateNode>();
  const taken = new Map<Transition, number>();
  const warnings: string[] = [];
  const unknownStates = new Set<string>();
  const unmatched = new Set<string>();
  // Running configuration from enter/exit, used when the trace has no macrostep record.
  const running = new Set<StateNode>();
  let lastConfiguration: readonly unknown[] | null = null;

  const state = (id: unknown): StateNode | null => {
    if (typeof id !== 'string') return null;
    const s = chart.stateById.get(id);
    if (!s) unknownStates.add(id);
    return s ?? null;
  };

  for (const r of records) {
    if (session !== null && r.session !== session) continue;
    switch (r.type) {
      case 'enter': {
        const s = state(r.state);
        if (s) { entered.add(s); running.add(s); }
        break;
      }
      case 'exit': {
        const s = state(r.state);
        if (s) running.delete(s);
        break;
      }
      case 'macrostep':
        if (Array.isArray(r.configuration)) lastConfiguration = r.configuration;
        break;
      case 'microstep':
        if (!Array.isArray(r.transitions)) break;
        for (const tr of r.transitions as unknown[]) {
          const t = matchTransition(chart, tr);
          if (t) taken.set(t, (taken.get(t) ?? 0) + 1);
          else unmatched.add(describeTraced(tr));
        }
        break;
      default:
        break;
    }
  }

  const active = new Set<StateNode>();
  if (lastConfiguration) {
    for (const id of lastConfiguration) {
      const s = state(id);
      if (!s || s.kind === 'scxml') continue;
      active.add(s);
      for (const a of s.ancestors) if (a.kind !== 'scxml') active.add(a);
    }
  } else {
    for (const s of running) active.add(s);
  }

  if (session === null && records.length > 0) warnings.push('the trace names no session: nothing to highlight');
  if (unknownStates.size) warnings.push(`the trace names states that are not in this chart: ${[...unknownStates].join(', ')}`);
  if (unmatched.size) warnings.push(`transitions in the trace that match none of this chart: ${[...unmatched].join('; ')}`);
  return { entered, active, taken, session, warnings };
}

function describeTraced(tr: unknown): string {
  const t = (tr ?? {}) as { source?: unknown; targets?: unknown; location?: unknown };
  const targets = Array.isArray(t.targets) ? t.targets.join(' ') : '';
  return `${String(t.source)} -> ${targets || '(targetless)'}${typeof t.location === 'string' ? ` at ${t.location}` : ''}`;
}

/**
 * The chart transition a traced one is: same source, and the same `line:column` at the end of
 * its location (the file part may be spelled differently, e.g. relative to another directory);
 * failing that, the only transition of that source with the same events and targets.
 */
export function matchTransition(chart: CompiledChart, traced: unknown): Transition | null {
  if (typeof traced !== 'object' || traced === null) return null;
  const t = traced as { source?: unknown; targets?: unknown; event?: unknown; location?: unknown };
  if (typeof t.source !== 'string') return null;
  const source = chart.stateById.get(t.source);
  if (!source) return null;
  if (typeof t.location === 'string') {
    const m = /:(\d+):(\d+)$/.exec(t.location);
    if (m) {
      const line = Number(m[1]);
      const column = Number(m[2]);
      const hit = source.transitions.find((x) => x.loc.line === line && x.loc.column === column);
      if (hit) return hit;
    }
  }
  const targets = Array.isArray(t.targets) ? t.targets.map(String) : [];
  const events = Array.isArray(t.event) ? t.event.map(String) : [];
  const same = source.transitions.filter((x) =>
    sameList(x.targets.map((s) => s.id), targets) && sameList([...x.events], events));
  return same.length === 1 ? same[0] : null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
