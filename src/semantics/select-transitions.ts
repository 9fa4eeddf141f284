import type { StateNode, Transition } from '../model/chart.js';
import { internalEvent, nameMatches, type ScxmlEvent } from '../model/event.js';
import { formatLocation, type SourceLocation } from '../model/location.js';
import type { InterpreterState } from './state.js';
import { EvaluationError } from '../datamodel/datamodel.js';
import { isDescendant } from './configuration.js';
import { getTransitionDomain } from './exit-entry.js';

/** W3C selectEventlessTransitions / selectTransitions: first match per atomic state, then conflicts. */
export function selectTransitions(s: InterpreterState, event: ScxmlEvent | null): Transition[] {
  const enabled: Transition[] = [];
  const { states } = s.chart, { active } = s;
  // The active atomic states in document order (activeAtomicStates, without the array).
  for (let i = 0; i < states.length; i++) {
    const atomic = states[i];
    if (active[i] === 0 || !atomic.isAtomic) continue;
    const t = firstEnabledTransition(s, atomic, event) ?? ancestorsFirstEnabled(s, atomic, event);
    if (t && !enabled.includes(t)) enabled.push(t);
  }
  return enabled.length > 1 ? removeConflictingTransitions(s, enabled) : enabled;
}

function ancestorsFirstEnabled(s: InterpreterState, atomic: StateNode, event: ScxmlEvent | null): Transition | null {
  for (const anc of atomic.ancestors) {
    const t = firstEnabledTransition(s, anc, event);
    if (t) return t;
  }
  return null;
}

function firstEnabledTransition(s: InterpreterState, state: StateNode, event: ScxmlEvent | null): Transition | null {
  for (const t of state.transitions) {
    if (event === null ? t.events.length !== 0 : !matchesEvent(t, event.name)) continue;
    if (t.cond === null || conditionMatch(s, t)) return t;
  }
  return null;
}

function matchesEvent(t: Transition, name: string): boolean {
  for (const d of t.events) if (nameMatches(d, name)) return true;
  return false;
}

/** A cond that fails to evaluate is false, and raises error.execution (W3C 5.9). */
function conditionMatch(s: InterpreterState, t: Transition): boolean {
  try {
    return s.dm.test(t.cond!);
  } catch (err) {
    const error = errorExecution(err, t.cond!.loc);
    s.observer?.error(error);
    s.internalQueue.push(error);
    return false;
  }
}

export function errorExecution(err: unknown, loc: SourceLocation): ScxmlEvent {
  const message = err instanceof Error ? err.message : String(err);
  const sendid = err instanceof EvaluationError ? err.sendid : undefined;
  return { ...internalEvent('error.execution', { message, location: formatLocation(loc) }), type: 'platform', sendid };
}

/**
 * W3C removeConflictingTransitions: two transitions conflict when their exit sets intersect;
 * a transition in a descendant preempts its ancestor's, otherwise the earlier one wins.
 */
export function removeConflictingTransitions(s: InterpreterState, enabled: readonly Transition[]): Transition[] {
  const filtered: Transition[] = [];
  for (const t1 of enabled) {
    let preempted = false;
    const toRemove: Transition[] = [];
    for (const t2 of filtered) {
      if (exitSetsIntersect(s, t1, t2)) {
        if (isDescendant(t1.source, t2.source)) toRemove.push(t2);
        else { preempted = true; break; }
      }
    }
    if (!preempted) {
      for (const t of toRemove) filtered.splice(filtered.indexOf(t), 1);
      filtered.push(t1);
    }
  }
  return filtered;
}

/**
 * Whether computeExitSet([t1]) and computeExitSet([t2]) intersect, without making them: each is
 * the active states among its domain's descendants, which are a range of document order.
 */
function exitSetsIntersect(s: InterpreterState, t1: Transition, t2: Transition): boolean {
  const d1 = getTransitionDomain(s, t1), d2 = getTransitionDomain(s, t2);
  if (!d1 || !d2) return false;
  const { descendantsEnd } = s.plans;
  const end = Math.min(descendantsEnd[d1.index], descendantsEnd[d2.index]);
  for (let i = Math.max(d1.index, d2.index) + 1; i < end; i++) if (s.active[i]) return true;
  return false;
}
