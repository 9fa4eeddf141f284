import type { CompiledChart, StateNode, Transition } from '../model/chart.js';
import type { DiagnosticSink } from '../model/diagnostics.js';
import { nameMatches } from '../model/event.js';
import { isDescendant } from '../semantics/configuration.js';

/**
 * Lint warnings (03xx) for a chart that built without errors. Each rule over-approximates what
 * can happen at run time (every cond may be true, every event may arrive), so a warning is
 * certain, never a guess: W3C charts must stay free of ORX0301/ORX0302 false positives.
 */
export function lintChart(chart: CompiledChart, sink: DiagnosticSink): void {
  const entered = enterableStates(chart);
  for (const s of chart.states) {
    // Only the outermost dead state: its descendants are dead because it is.
    if (entered.has(s) || (s.parent && !entered.has(s.parent))) continue;
    sink.warning('ORX0301', s.loc, `${describe(s)} can never be entered: no transition, initial or history default leads to it`);
  }
  for (const s of chart.states) if (entered.has(s)) lintTransitions(s.transitions, sink);
  lintUnusedData(chart, sink);
}

const describe = (s: StateNode) => (s.generatedId ? `this <${s.kind}>` : `state '${s.id}'`);

/**
 * States some run can enter, following the W3C entry rules: a target is entered with its
 * ancestors, and every region of a parallel ancestor that holds no target is default-entered;
 * default entry enters the initial of a compound, every child of a parallel, the default of a
 * history. A compound entered only as the ancestor of a target does not enter its initial.
 * A shallow history restores (default-enters) children of its parent that were entered before;
 * a deep history restores atomic states, which were entered before, so it adds nothing.
 */
function enterableStates(chart: CompiledChart): Set<StateNode> {
  const entered = new Set<StateNode>();
  const defaultEntered = new Set<StateNode>();
  const shallowHistories = new Set<StateNode>();
  const pending: Transition[] = [];

  const markEntered = (s: StateNode) => {
    if (entered.has(s)) return;
    entered.add(s);
    pending.push(...s.transitions);
  };
  const defaultEnter = (s: StateNode) => {
    if (defaultEntered.has(s)) return;
    defaultEntered.add(s);
    markEntered(s);
    if (s.kind === 'history' && s.historyType === 'shallow') shallowHistories.add(s);
    if (s.kind === 'parallel') for (const c of s.children) { if (c.kind !== 'history') defaultEnter(c); }
    else if (s.initial) take(s.initial); // compound, <scxml> or history: initial / default transition
  };
  const take = (t: Transition) => {
    for (const target of t.targets) {
      defaultEnter(target);
      for (const a of target.ancestors) {
        markEntered(a);
        if (a.kind !== 'parallel') continue;
        for (const c of a.children) {
          if (c.kind !== 'history' && !t.targets.some((x) => x === c || isDescendant(x, c))) defaultEnter(c);
        }
      }
    }
  };

  defaultEnter(chart.root);
  let before = -1;
  while (before !== defaultEntered.size) {
    before = defaultEntered.size;
    for (let t = pending.pop(); t; t = pending.pop()) take(t);
    for (const h of shallowHistories) for (const c of h.parent!.children) if (entered.has(c) && c.kind !== 'history') defaultEnter(c);
  }
  return entered;
}

/** ORX0302: a transition shadowed by an earlier one of the same state. */
function lintTransitions(ts: readonly Transition[], sink: DiagnosticSink): void {
  for (let j = 1; j < ts.length; j++) {
    const later = ts[j];
    for (let i = 0; i < j; i++) {
      const earlier = ts[i];
      if (earlier.cond) continue;
      if (earlier.events.length === 0) {
        // Always enabled while the state is active: the state never waits for an event, and
        // document order makes it win over every later eventless transition.
        sink.warning('ORX0302', later.loc, `this transition can never be taken: the eventless transition without cond at line ${earlier.loc.line} is always enabled first`);
        break;
      }
      if (later.events.length > 0 && later.events.every((d) => earlier.events.some((e) => covers(e, d)))) {
        sink.warning('ORX0302', later.loc, `this transition can never be taken: the transition at line ${earlier.loc.line} (event '${earlier.events.join(' ')}', no cond) comes first and matches every event this one matches`);
        break;
      }
    }
  }
}

/** Whether every event name descriptor `d` matches is also matched by `e`. */
function covers(e: string, d: string): boolean {
  if (e === '*') return true;
  if (d === '*') return false;
  return nameMatches(e, d.replace(/\.\*?$/, ''));
}

/** ORX0303: a <data> whose id no expression, location, script or namelist mentions. */
function lintUnusedData(chart: CompiledChart, sink: DiagnosticSink): void {
  for (const s of chart.states) {
    for (const d of s.data) {
      if (!d.id) continue;
      const mention = new RegExp(`(?<![\\w$])${d.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w$])`);
      // The data's own expr does not count as a use.
      if (!chart.code.some((c) => c !== d.expr && c.source.includes(d.id) && mention.test(c.source))) {
        sink.warning('ORX0303', d.loc, `data '${d.id}' is declared but never used in any expression, location, script or namelist`);
      }
    }
  }
}
