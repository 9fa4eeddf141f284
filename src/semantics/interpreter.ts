import type { StateNode, Transition } from '../model/chart.js';
import type { ScxmlEvent } from '../model/event.js';
import type { InterpreterState } from './state.js';
import { activeStates, byDocumentOrder } from './configuration.js';
import { selectTransitions } from './select-transitions.js';
import { enterStates, executeTransitionContent, exitStates } from './exit-entry.js';

/**
 * The W3C SCXML algorithm (Appendix D), split at the points where the specification blocks
 * on the external queue: `interpret` runs up to the first wait, `processExternalEvent` runs one
 * external event to the next wait. The caller owns the external queue and time.
 */

export class RunawayError extends Error {
  constructor(readonly limit: number) {
    super(`the chart did not stabilise within ${limit} microsteps and internal events in one macrostep (limit maxMicrosteps=${limit})`);
    this.name = 'RunawayError';
  }
}

/** W3C interpret(): data, global script, initial transition, then the first macrostep. */
export function interpret(s: InterpreterState): void {
  const { chart } = s;
  if (chart.binding === 'early') for (const state of chart.states) s.host.initializeData(state);
  else {
    // Late binding (W3C 5.3): every variable exists from the start; values come on first entry.
    for (const state of chart.states) for (const d of state.data) if (!s.dm.isDeclared(d.id)) s.dm.declare(d.id, undefined);
    s.host.initializeData(chart.root);
  }
  s.running = true;
  if (chart.script.length) s.host.execute(chart.script);
  enterStates(s, [chart.root.initial!]);
  runToStableConfiguration(s);
}

/** One external event (W3C mainEventLoop after the blocking dequeue). */
export function processExternalEvent(s: InterpreterState, event: ScxmlEvent): void {
  if (!s.running) return;
  s.dm.setEvent(event);
  if (s.plans.hasInvokes) s.host.beforeExternalEvent(event, activeStates(s));
  const enabled = selectTransitions(s, event);
  if (enabled.length) microstep(s, enabled, event);
  runToStableConfiguration(s);
}

/**
 * W3C mainEventLoop, the part before the wait: eventless transitions and internal events until
 * none is enabled, then the invokes of the states entered, again while internal events remain.
 */
function runToStableConfiguration(s: InterpreterState): void {
  let steps = 0;
  while (s.running) {
    let macrostepDone = false;
    while (s.running && !macrostepDone) {
      let enabled: readonly Transition[] = s.plans.hasEventless ? selectTransitions(s, null) : NONE;
      let event: ScxmlEvent | null = null;
      if (enabled.length === 0) {
        event = s.internalQueue.shift() ?? null;
        if (!event) macrostepDone = true;
        else {
          // Internal events count too: a cond that fails on every eventless selection raises
          // error.execution for ever without a transition ever being taken.
          if (++steps > s.maxMicrosteps) throw new RunawayError(s.maxMicrosteps);
          s.dm.setEvent(event);
          enabled = selectTransitions(s, event);
        }
      }
      if (enabled.length) {
        if (++steps > s.maxMicrosteps) throw new RunawayError(s.maxMicrosteps);
        microstep(s, enabled, event);
      }
    }
    if (!s.running) return;
    if (s.plans.hasInvokes && s.statesToInvoke.size) startInvokes(s);
    if (s.internalQueue.length === 0) return;
  }
}

/** The invokes of the states entered in the macrostep, in document order. */
function startInvokes(s: InterpreterState): void {
  const toInvoke = [...s.statesToInvoke].sort(byDocumentOrder);
  s.statesToInvoke.clear();
  for (const state of toInvoke) for (const inv of state.invokes) s.host.startInvoke(inv);
}

/** No transition (charts without eventless transitions select none without looking). */
const NONE: readonly Transition[] = [];

export function microstep(s: InterpreterState, enabled: readonly Transition[], event: ScxmlEvent | null = null): void {
  s.observer?.microstep(event, enabled);
  exitStates(s, enabled);
  executeTransitionContent(s, enabled);
  enterStates(s, enabled);
}

/** W3C exitInterpreter: exit every active state (innermost first), cancelling invokes. */
export function exitInterpreter(s: InterpreterState): void {
  const states = activeStates(s).reverse();
  for (const state of states) {
    for (const block of state.onexit) s.host.execute(block);
    for (const inv of state.invokes) s.host.cancelInvoke(inv);
    s.active[state.index] = 0;
    s.observer?.exit(state);
  }
  s.running = false;
}

export function activeStateIds(s: InterpreterState): string[] {
  return activeStates(s).map((x: StateNode) => x.id);
}
