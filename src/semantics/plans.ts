import type { CompiledChart, ExecBlock, StateNode, Transition } from '../model/chart.js';

/**
 * What the W3C algorithm would otherwise recompute on every event although it depends on the
 * chart alone: made once per chart, shared by its sessions (the chart never changes).
 */
export interface ChartPlans {
  /** Entry plan by Transition.index: undefined until first needed, null when it depends on history values. */
  readonly entry: (EntryPlan | null | undefined)[];
  /** The same for the transitions without an index (initial transitions). */
  readonly entryOfInitial: Map<Transition, EntryPlan | null>;
  /**
   * Entry plans of sets of transitions, by the first of the set: the same sets recur (the
   * regions of a parallel state taking the same event), so their union is made once.
   */
  readonly entryOfSet: Map<Transition, { readonly transitions: readonly Transition[]; readonly plan: EntryPlan }[]>;
  /** By StateNode.index: one past the index of its last descendant (descendants follow a state in document order). */
  readonly descendantsEnd: Int32Array;
  /** Some state has an eventless transition: otherwise selectEventlessTransitions always finds none. */
  readonly hasEventless: boolean;
  /** Some state has an <invoke>: otherwise there is no invoke bookkeeping to do. */
  readonly hasInvokes: boolean;
  /** Some state has a history child: otherwise exitStates records no history. */
  readonly hasHistory: boolean;
}

/** The outcome of W3C computeEntrySet for a set of transitions. */
export interface EntryPlan {
  /** statesToEnter, in document order (the order enterStates enters them). */
  readonly states: readonly StateNode[];
  /** statesForDefaultEntry, as a flag per entry of `states`. */
  readonly defaultEntry: readonly boolean[];
  /** defaultHistoryContent, per entry of `states` (null: none). */
  readonly historyContent: readonly (ExecBlock | null)[];
}

const plansByChart = new WeakMap<CompiledChart, ChartPlans>();

export function chartPlans(chart: CompiledChart): ChartPlans {
  let plans = plansByChart.get(chart);
  if (!plans) {
    plans = {
      entry: new Array<EntryPlan | null | undefined>(chart.transitions.length).fill(undefined),
      entryOfInitial: new Map(),
      entryOfSet: new Map(),
      descendantsEnd: descendantsEnd(chart.states),
      hasEventless: chart.states.some((x) => x.transitions.some((t) => t.events.length === 0)),
      hasInvokes: chart.states.some((x) => x.invokes.length > 0),
      hasHistory: chart.states.some((x) => x.kind === 'history'),
    };
    plansByChart.set(chart, plans);
  }
  return plans;
}

function descendantsEnd(states: readonly StateNode[]): Int32Array {
  const end = new Int32Array(states.length);
  for (const state of states) {
    let i = state.index + 1;
    while (i < states.length && states[i].depth > state.depth) i++;
    end[state.index] = i;
  }
  return end;
}
