import type { ExecBlock, StateNode, Transition } from '../model/chart.js';
import { internalEvent } from '../model/event.js';
import { enteredFlag, type InterpreterState } from './state.js';
import type { EntryPlan } from './plans.js';
import {
  byDocumentOrder, byReverseDocumentOrder, findLCCA, getProperAncestors, isDescendant, isInFinalState,
} from './configuration.js';

/** W3C getEffectiveTargetStates: history states replaced by their value or default targets. */
export function getEffectiveTargetStates(s: InterpreterState, t: Transition): StateNode[] {
  const targets: StateNode[] = [];
  const add = (x: StateNode) => { if (!targets.includes(x)) targets.push(x); };
  const visit = (state: StateNode) => {
    if (state.kind !== 'history') return add(state);
    const value = s.historyValue.get(state.index);
    if (value) value.forEach(add);
    else state.initial!.targets.forEach(visit);
  };
  t.targets.forEach(visit);
  return targets;
}

/** W3C getTransitionDomain; precomputed at load unless a target is a history state. */
export function getTransitionDomain(s: InterpreterState, t: Transition): StateNode | null {
  if (t.targets.length === 0) return null;
  if (t.domain) return t.domain;
  const tstates = getEffectiveTargetStates(s, t);
  if (t.type === 'internal' && t.source.isCompound && tstates.every((x) => isDescendant(x, t.source))) return t.source;
  return findLCCA([t.source, ...tstates]);
}

/** Active states a transition exits: the active descendants of its domain. */
export function computeExitSetOf(s: InterpreterState, t: Transition): StateNode[] {
  const domain = getTransitionDomain(s, t);
  if (!domain) return [];
  const out: StateNode[] = [];
  const states = s.chart.states;
  // Descendants of a state are contiguous in document order, right after it.
  for (let i = domain.index + 1; i < states.length && states[i].depth > domain.depth; i++) {
    if (s.active[i]) out.push(states[i]);
  }
  return out;
}

export function computeExitSet(s: InterpreterState, transitions: readonly Transition[]): StateNode[] {
  if (transitions.length === 1) return computeExitSetOf(s, transitions[0]);
  const set = new Set<StateNode>();
  for (const t of transitions) for (const x of computeExitSetOf(s, t)) set.add(x);
  return [...set];
}

/** W3C exitStates: record history, run onexit, cancel invokes, leave the configuration. */
export function exitStates(s: InterpreterState, transitions: readonly Transition[]): void {
  if (!s.plans.hasHistory && exitInPlace(s, transitions)) return;
  // computeExitSetOf lists states in document order: one transition's set only needs reversing.
  const statesToExit = transitions.length === 1
    ? computeExitSetOf(s, transitions[0]).reverse()
    : computeExitSet(s, transitions).sort(byReverseDocumentOrder);
  if (s.plans.hasHistory) {
    for (const state of statesToExit) {
      for (const h of state.children) {
        if (h.kind !== 'history') continue;
        s.historyValue.set(h.index, statesToExit.filter((x) =>
          h.historyType === 'deep' ? x.isAtomic && isDescendant(x, state) : x.parent === state));
      }
    }
  }
  for (const state of statesToExit) exitState(s, state);
}

/**
 * exitStates without making the exit set, when there is no history to record: a transition's
 * exit set is the active states of its domain's descendant range, and the ranges of
 * non-conflicting transitions are disjoint, so exiting the ranges last to first, each from its
 * end, is reverse document order. False (nothing done) if the ranges overlap.
 */
function exitInPlace(s: InterpreterState, transitions: readonly Transition[]): boolean {
  const { descendantsEnd } = s.plans;
  if (transitions.length === 1) {
    const domain = getTransitionDomain(s, transitions[0]);
    if (domain) exitRange(s, domain.index, descendantsEnd[domain.index]);
    return true;
  }
  const domains: StateNode[] = [];
  for (const t of transitions) {
    const domain = getTransitionDomain(s, t);
    if (domain) domains.push(domain);
  }
  domains.sort(byReverseDocumentOrder);
  for (let i = 1; i < domains.length; i++) if (descendantsEnd[domains[i].index] > domains[i - 1].index) return false;
  for (const domain of domains) exitRange(s, domain.index, descendantsEnd[domain.index]);
  return true;
}

function exitRange(s: InterpreterState, domain: number, end: number): void {
  const { states } = s.chart;
  for (let i = end - 1; i > domain; i--) if (s.active[i]) exitState(s, states[i]);
}

function exitState(s: InterpreterState, state: StateNode): void {
  if (s.plans.hasInvokes) s.statesToInvoke.delete(state);
  for (const block of state.onexit) s.host.execute(block);
  for (const inv of state.invokes) s.host.cancelInvoke(inv);
  s.active[state.index] = 0;
  s.observer?.exit(state);
}

export function executeTransitionContent(s: InterpreterState, transitions: readonly Transition[]): void {
  for (const t of transitions) if (t.content.length) s.host.execute(t.content);
}

/** W3C enterStates, from the entry plan of the transitions. */
export function enterStates(s: InterpreterState, transitions: readonly Transition[]): void {
  const plan = entryPlan(s, transitions);
  const late = s.chart.binding === 'late';
  const invokes = s.plans.hasInvokes;
  const { states, defaultEntry, historyContent } = plan;
  for (let i = 0; i < states.length; i++) {
    const state = states[i];
    s.active[state.index] = 1;
    s.observer?.enter(state);
    if (invokes) s.statesToInvoke.add(state);
    const entered = enteredFlag(s, state);
    if (late && !s.active[entered]) s.host.initializeData(state);
    s.active[entered] = 1;
    for (const block of state.onentry) s.host.execute(block);
    if (defaultEntry[i] && state.initial!.content.length) s.host.execute(state.initial!.content);
    const content = historyContent[i];
    if (content) s.host.execute(content);
    if (state.kind === 'final') enterFinalState(s, state);
  }
}

/**
 * The entry plan of the enabled transitions. A transition's own plan is cached by the chart
 * unless a history state was involved (then it depends on the history values). Enabled
 * transitions do not conflict, so their domains are disjoint subtrees (nested domains would
 * make their exit sets intersect) and each enters states below its own domain only: the set's
 * plan is the union of theirs.
 */
function entryPlan(s: InterpreterState, transitions: readonly Transition[]): EntryPlan {
  if (transitions.length === 1) return staticEntryPlan(s, transitions[0]) ?? computeEntryPlan(s, transitions).plan;
  let known = s.plans.entryOfSet.get(transitions[0]);
  if (known) for (const k of known) if (sameTransitions(k.transitions, transitions)) return k.plan;
  const plan = unionEntryPlan(s, transitions);
  // Only sets whose plan depends on the chart alone are kept, and a few per first transition.
  if (plan.cacheable) {
    if (!known) s.plans.entryOfSet.set(transitions[0], (known = []));
    if (known.length < MAX_SETS_PER_TRANSITION) known.push({ transitions: [...transitions], plan: plan.plan });
  }
  return plan.plan;
}

const MAX_SETS_PER_TRANSITION = 8;

function sameTransitions(a: readonly Transition[], b: readonly Transition[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function unionEntryPlan(s: InterpreterState, transitions: readonly Transition[]): { plan: EntryPlan; cacheable: boolean } {
  const parts: EntryPlan[] = [];
  for (const t of transitions) {
    const plan = staticEntryPlan(s, t);
    if (!plan) return { plan: computeEntryPlan(s, transitions).plan, cacheable: false }; // history involved: the W3C computation over the whole set
    parts.push(plan);
  }
  // Descendants of a state are contiguous in document order: each part occupies its own range,
  // so document order is the parts in the order of their first states, one after the other.
  parts.sort((a, b) => (a.states.length ? a.states[0].index : 0) - (b.states.length ? b.states[0].index : 0));
  const states: StateNode[] = [], defaultEntry: boolean[] = [], historyContent: (ExecBlock | null)[] = [];
  for (const p of parts) {
    states.push(...p.states);
    defaultEntry.push(...p.defaultEntry);
    historyContent.push(...p.historyContent);
  }
  return { plan: { states, defaultEntry, historyContent }, cacheable: true };
}

/** A transition's own entry plan, cached by the chart; null when it depends on history values. */
function staticEntryPlan(s: InterpreterState, t: Transition): EntryPlan | null {
  let plan = t.index >= 0 ? s.plans.entry[t.index] : s.plans.entryOfInitial.get(t);
  if (plan === undefined) {
    const computed = computeEntryPlan(s, [t]);
    plan = computed.usedHistory ? null : computed.plan;
    if (t.index >= 0) s.plans.entry[t.index] = plan;
    else s.plans.entryOfInitial.set(t, plan);
  }
  return plan;
}

interface EntrySet {
  readonly statesToEnter: Set<StateNode>;
  readonly statesForDefaultEntry: Set<StateNode>;
  readonly defaultHistoryContent: Map<StateNode, ExecBlock>;
  /** A history state was entered: the set depends on history values, not only on the chart. */
  usedHistory: boolean;
}

function computeEntryPlan(s: InterpreterState, transitions: readonly Transition[]): { plan: EntryPlan; usedHistory: boolean } {
  const entry: EntrySet = { statesToEnter: new Set(), statesForDefaultEntry: new Set(), defaultHistoryContent: new Map(), usedHistory: false };
  computeEntrySet(s, transitions, entry);
  const states = [...entry.statesToEnter].sort(byDocumentOrder);
  return {
    plan: {
      states,
      defaultEntry: states.map((x) => entry.statesForDefaultEntry.has(x)),
      historyContent: states.map((x) => entry.defaultHistoryContent.get(x) ?? null),
    },
    usedHistory: entry.usedHistory,
  };
}

function enterFinalState(s: InterpreterState, state: StateNode): void {
  const parent = state.parent!;
  if (parent.kind === 'scxml') {
    s.running = false;
    s.finalState = state;
    return;
  }
  s.internalQueue.push(internalEvent(`done.state.${parent.id}`, state.donedata ? s.host.doneData(state.donedata) : undefined));
  const grandparent = parent.parent;
  if (grandparent && grandparent.kind === 'parallel' && grandparent.children.every((c) => c.kind === 'history' || isInFinalState(s, c))) {
    s.internalQueue.push(internalEvent(`done.state.${grandparent.id}`));
  }
}

function computeEntrySet(s: InterpreterState, transitions: readonly Transition[], entry: EntrySet): void {
  for (const t of transitions) {
    for (const target of t.targets) addDescendantStatesToEnter(s, target, entry);
    const ancestor = getTransitionDomain(s, t);
    for (const target of getEffectiveTargetStates(s, t)) addAncestorStatesToEnter(s, target, ancestor, entry);
  }
}

function addDescendantStatesToEnter(s: InterpreterState, state: StateNode, entry: EntrySet): void {
  if (state.kind === 'history') {
    entry.usedHistory = true;
    const value = s.historyValue.get(state.index);
    const targets = value ?? state.initial!.targets;
    if (!value && state.initial!.content.length) entry.defaultHistoryContent.set(state.parent!, state.initial!.content);
    for (const x of targets) addDescendantStatesToEnter(s, x, entry);
    for (const x of targets) addAncestorStatesToEnter(s, x, state.parent, entry);
    return;
  }
  entry.statesToEnter.add(state);
  if (state.isCompound) {
    entry.statesForDefaultEntry.add(state);
    const initial = state.initial!;
    for (const x of initial.targets) addDescendantStatesToEnter(s, x, entry);
    for (const x of initial.targets) addAncestorStatesToEnter(s, x, state, entry);
  } else if (state.kind === 'parallel') {
    for (const child of state.children) {
      if (child.kind !== 'history' && !hasDescendantIn(entry.statesToEnter, child)) addDescendantStatesToEnter(s, child, entry);
    }
  }
}

function addAncestorStatesToEnter(s: InterpreterState, state: StateNode, ancestor: StateNode | null, entry: EntrySet): void {
  for (const anc of getProperAncestors(state, ancestor)) {
    entry.statesToEnter.add(anc);
    if (anc.kind === 'parallel') {
      for (const child of anc.children) {
        if (child.kind !== 'history' && !hasDescendantIn(entry.statesToEnter, child)) addDescendantStatesToEnter(s, child, entry);
      }
    }
  }
}

function hasDescendantIn(set: Set<StateNode>, state: StateNode): boolean {
  for (const x of set) if (isDescendant(x, state)) return true;
  return false;
}
