import type { StateNode } from '../model/chart.js';
import type { InterpreterState } from './state.js';

/** W3C helper predicates over the chart tree and the active configuration. */

export function isDescendant(state: StateNode, ancestor: StateNode): boolean {
  return state.depth > ancestor.depth && state.ancestors[state.depth - ancestor.depth - 1] === ancestor;
}

export function isCompoundOrScxml(state: StateNode): boolean {
  return state.isCompound || state.kind === 'scxml';
}

/** Proper ancestors of `state` up to (not including) `stop`, nearest first. */
export function getProperAncestors(state: StateNode, stop: StateNode | null): StateNode[] {
  const out: StateNode[] = [];
  for (const anc of state.ancestors) {
    if (anc === stop) break;
    out.push(anc);
  }
  return out;
}

/** The innermost compound (or scxml) proper ancestor of the first state containing all others. */
export function findLCCA(states: readonly StateNode[]): StateNode {
  for (const anc of states[0].ancestors) {
    if (!isCompoundOrScxml(anc)) continue;
    let all = true;
    for (let i = 1; i < states.length; i++) if (!isDescendant(states[i], anc)) { all = false; break; }
    if (all) return anc;
  }
  return states[0].ancestors[states[0].ancestors.length - 1];
}

/** Active states in document order. */
export function activeStates(s: InterpreterState): StateNode[] {
  const out: StateNode[] = [];
  const states = s.chart.states;
  for (let i = 0; i < states.length; i++) if (s.active[i]) out.push(states[i]);
  return out;
}

export function activeAtomicStates(s: InterpreterState): StateNode[] {
  const out: StateNode[] = [];
  const states = s.chart.states;
  for (let i = 0; i < states.length; i++) if (s.active[i] && states[i].isAtomic) out.push(states[i]);
  return out;
}

export function isInFinalState(s: InterpreterState, state: StateNode): boolean {
  if (state.isCompound) return state.children.some((c) => c.kind === 'final' && s.active[c.index] === 1);
  if (state.kind === 'parallel') return state.children.every((c) => c.kind === 'history' || isInFinalState(s, c));
  return false;
}

export const byDocumentOrder = (a: StateNode, b: StateNode): number => a.index - b.index;
export const byReverseDocumentOrder = (a: StateNode, b: StateNode): number => b.index - a.index;
