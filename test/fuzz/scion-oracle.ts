// SCION (@scion-scxml/scxml 4.x) as the differential oracle.
//
// The oracle is SCION with its known departures from the W3C Recommendation corrected; each one
// is listed with a minimal chart in docs/conformance.md (SCION deviations), and test/differential.test.ts checks
// that *stock* SCION still shows it (so the list stays honest when SCION changes). What cannot be
// corrected here is kept out of the generated charts by construction (chart-gen.ts: D2, D3, D7).
//
// D1  SCION's transition scope may be a parallel state, and is computed from the first target
//     only; W3C getTransitionDomain is the least common *compound* ancestor of the source and all
//     targets. Corrected: every transition's scope is recomputed by the W3C rule (`specScopes`).
// D4  SCION ends the session when every active atomic state is a final state; W3C ends it only
//     when a child <final> of <scxml> is entered. Corrected in _finishBigStep.
// D5  SCION runs the transitions' executable content sorted by document order (the wording of
//     3.13); Appendix D runs it in the order of the optimal enabled transition set. They differ
//     only when a transition and a transition of one of its source's ancestors are taken in the
//     same microstep. Orchestrion implements Appendix D; corrected in _executeTransitions.
// D6  SCION enters states sorted by depth, then document order, and exits them by depth, then
//     reverse document order; W3C enters in document order and exits in reverse document order.
//     Corrected by giving every state the same depth (`flattenDepths`): SCION's comparators then
//     fall back to document order. Nothing else in SCION's non-legacy algorithm reads `depth`.
// D8  SCION raises done.state.<parent> after the onentry content of *every* state entered in the
//     microstep, and evaluates <donedata> then; W3C raises it (and evaluates donedata) right after
//     the final state's own onentry, before later states are entered.
// D9  SCION raises done.state.<parallel> once per final state entered in the microstep; W3C
//     raises it once, when the last region completes.
// D10 SCION counts a parallel state's <history> children among its regions, so a parallel state
//     with a history child never completes; W3C getChildStates leaves history states out.
//     D8–D10 are corrected in _enterStates.
// D11 SCION's deep history records only the atomic descendants that are not final states (it
//     filters on typeEnum BASIC): restoring a deep history recorded in a final state enters nothing
//     and leaves the configuration empty. Corrected in _exitStates.
//
// Time: <send> goes through SCION's `customSend`/`customCancel` hooks onto the same virtual
// TimerQueue logic as Orchestrion's clock; a send without delay enters the external queue, which
// the harness drains after each macrostep (gen() is synchronous and cannot be re-entered).

import { createRequire } from 'node:module';
import { TimerQueue } from './stepped-clock.js';
import type { Step } from './chart-gen.js';
import { pickVariables, type RunLog } from './harness.js';

const require = createRequire(import.meta.url);

interface ScionEvent { name: string; data?: unknown; sendid?: string; type?: string; target?: string }

let scionModule: any = null;
function scion(): any {
  if (!scionModule) scionModule = require('@scion-scxml/scxml');
  return scionModule;
}

let oracleClass: any = null;
function statechartClass(): any {
  if (oracleClass) return oracleClass;
  const core = scion().core;
  const { FINAL, PARALLEL, INITIAL, HISTORY, COMPOSITE } = core.STATE_TYPES;
  oracleClass = class extends core.Statechart {
    /** W3C isInFinalState, over the children that are states (not history or initial). */
    specIsInFinal(state: any): boolean {
      const children = (state.states ?? []).filter((c: any) => c.typeEnum !== HISTORY && c.typeEnum !== INITIAL);
      if (state.typeEnum === COMPOSITE) return children.some((c: any) => c.typeEnum === FINAL && this._configuration.contains(c));
      if (state.typeEnum === PARALLEL) return children.every((c: any) => this.specIsInFinal(c));
      return false;
    }

    runBlock(actions: readonly any[] | undefined, currentEvent: unknown): void {
      for (const actionRef of actions ?? []) {
        try {
          actionRef.call(this._scriptingContext, currentEvent);
        } catch (e) {
          this._handleError(e, actionRef);
          break;
        }
      }
    }

    /** D11: W3C exitStates (history recorded first, a deep history keeps every atomic descendant). */
    _exitStates(currentEvent: unknown, selectedTransitionsWithTargets: any): any[] {
      const [, statesExited] = this._getStatesExited(selectedTransitionsWithTargets);
      for (const state of statesExited) {
        for (const h of state.historyRef ?? []) {
          this._historyValue[h.id] = statesExited.filter((s0: any) => (h.isDeep ? s0.isAtomic && state.descendants.includes(s0) : s0.parent === state));
        }
      }
      for (const state of statesExited) {
        if (state.isAtomic) this._configuration.remove(state);
        this.emit('onExit', state.id);
        for (const block of state.onExit ?? []) this.runBlock(block, currentEvent);
      }
      return statesExited;
    }

    /** D5: in the order of the optimal enabled transition set. */
    _executeTransitions(currentEvent: unknown, selectedTransitions: any): void {
      for (const transition of selectedTransitions.iter()) {
        const targetIds = transition.targets && transition.targets.map((t: { id: string }) => t.id);
        this.emit('onTransition', transition.source.id, targetIds, transition.source.transitions.indexOf(transition));
        this.runBlock(transition.onTransition, currentEvent);
      }
    }

    /** D8–D10: W3C enterStates. */
    _enterStates(currentEvent: unknown, selectedTransitionsWithTargets: any): any[] {
      const entered = new Set<any>();
      const forDefaultEntry = new Set<any>();
      const defaultHistoryContent: Record<string, any> = {};
      this._computeEntrySet(selectedTransitionsWithTargets, entered, forDefaultEntry, defaultHistoryContent);
      const sorted = [...entered].sort((a, b) => a.documentOrder - b.documentOrder);
      for (const state of sorted) {
        if (state.isAtomic) this._configuration.add(state);
        this.emit('onEntry', state.id);
        for (const block of state.onEntry ?? []) this.runBlock(block, currentEvent);
        if (forDefaultEntry.has(state)) {
          for (const initial of state.initialRef) {
            this.emit('onDefaultEntry', initial.id);
            if (initial.typeEnum === INITIAL) this.runBlock(initial.transitions[0].onTransition, currentEvent);
          }
        }
        if (defaultHistoryContent[state.id]) this.runBlock(defaultHistoryContent[state.id].onTransition, currentEvent);
        if (state.typeEnum === FINAL && state.parent.$type !== 'scxml') {
          const parent = state.parent;
          const grandparent = parent.parent;
          let data: unknown;
          try {
            data = state.donedata ? state.donedata.call(this._scriptingContext, currentEvent) : undefined;
          } catch (e) {
            this._handleError(e, state.donedata);
          }
          this._internalEventQueue.push({ name: `done.state.${parent.id}`, data });
          if (grandparent && grandparent.typeEnum === PARALLEL && this.specIsInFinal(grandparent)) {
            this._internalEventQueue.push({ name: `done.state.${grandparent.id}` });
          }
        }
      }
      return sorted;
    }

    /** D4: the session ends when a child <final> of <scxml> is active. */
    _finishBigStep(e: unknown, allStatesEntered: Set<any>, allStatesExited: Set<any>, cb?: (err: unknown, config: unknown) => void): void {
      const toInvoke = [...allStatesEntered].filter((s) => s.invokes).sort((a, b) => a.documentOrder - b.documentOrder);
      for (const s of toInvoke) for (const f of s.invokes) this._evaluateAction(e, f);
      for (const s of allStatesExited) for (const invoke of s.invokes ?? []) this._scriptingContext.cancelInvoke(invoke.id);
      this._isInFinalState = this._configuration.iter().some((s: any) => s.typeEnum === FINAL && s.parent.$type === 'scxml');
      if (this._isInFinalState) this._exitInterpreter(e);
      this.emit('onBigStepEnd', e);
      if (cb) cb(undefined, this.getConfiguration());
    }
  };
  return oracleClass;
}

/** D6: with every depth equal, SCION's entry and exit comparators reduce to document order. */
function flattenDepths(state: any): void {
  state.depth = 0;
  for (const child of state.states ?? []) flattenDepths(child);
}

/** D1: the W3C transition domain as the scope of every transition that has targets. */
function specScopes(root: any): void {
  const { COMPOSITE } = scion().core.STATE_TYPES;
  const isDescendant = (s: any, of: any) => of.descendants.includes(s);
  const walk = (state: any) => {
    for (const t of state.transitions ?? []) {
      if (!t.targets || state.$type === 'initial' || state.$type === 'history') continue;
      if (t.type === 'internal' && state.typeEnum === COMPOSITE && state.$type !== 'scxml' && t.targets.every((x: any) => isDescendant(x, state))) {
        t.scope = state;
        continue;
      }
      const domain = state.ancestors.find((a: any) => a.typeEnum === COMPOSITE && t.targets.every((x: any) => isDescendant(x, a)));
      if (domain) t.scope = domain;
    }
    for (const child of state.states ?? []) walk(child);
  };
  walk(root);
}

const quietConsole = { log() { /* SCION's <log> and warnings */ }, info() {}, warn() {}, error() {}, debug() {} };

/** Parse and compile once per chart (documentStringToModel wants a file name even for a string). */
export function scionModel(xml: string): Promise<any> {
  return new Promise((resolve, reject) => {
    try {
      scion().documentStringToModel('chart.scxml', xml, (err: unknown, model: any) => (err ? reject(err) : resolve(model)));
    } catch (err) {
      reject(err);
    }
  });
}

/** One prepared model per session: sessions from one prepared model would share the datamodel. */
function prepare(model: any): Promise<any> {
  return new Promise((resolve, reject) => model.prepare((err: unknown, fn: any) => (err ? reject(err) : resolve(fn)), { console: quietConsole }));
}

export interface ScionOptions {
  /** Stock SCION, without the corrections (for the tests that show its deviations). */
  readonly stock?: boolean;
}

export async function runScion(model: any, steps: readonly Step[], stateIds: readonly string[], variables: readonly string[], options: ScionOptions = {}): Promise<RunLog> {
  const ids = new Set(stateIds);
  const log: RunLog = { macrosteps: [], end: null, failure: null };
  const fnModel = await prepare(model);
  const timers = new TimerQueue();
  const external: ScionEvent[] = [];
  const bySendid = new Map<string, ReturnType<TimerQueue['add']>>();
  let sc: any;
  const record = () => {
    const config = (sc.getFullConfiguration() as string[]).filter((x) => ids.has(x)).sort();
    const data = pickVariables(sc.getSnapshot()[3], variables);
    log.macrosteps.push({ config, data });
    if (sc.isFinal() && !log.end) log.end = { status: 'final', data };
  };
  const macrostep = (event: ScionEvent) => {
    if (sc.isFinal()) return;
    sc.gen(event);
    record();
  };
  const drainExternal = () => {
    while (external.length && !sc.isFinal()) macrostep(external.shift()!);
    external.length = 0;
  };
  const Statechart = options.stock ? scion().core.Statechart : statechartClass();
  sc = new Statechart(fnModel, {
    console: quietConsole,
    customSend(this: any, event: ScionEvent, sendOptions: { delay?: number }) {
      if (event.target === '#_internal') {
        this.raise(event);
        return;
      }
      if (event.target) throw new Error('the differential harness sends to the session itself only');
      this._installDefaultPropsOnEvent(event, false);
      const delay = sendOptions.delay ?? 0;
      if (delay <= 0) {
        external.push(event);
        return;
      }
      const handle = timers.add(delay, () => {
        if (event.sendid) bySendid.delete(event.sendid);
        macrostep(event);
        drainExternal();
      });
      if (event.sendid) bySendid.set(event.sendid, handle);
    },
    customCancel(sendid: string) {
      const handle = bySendid.get(sendid);
      if (handle) timers.remove(handle);
      bySendid.delete(sendid);
    },
  });
  if (!options.stock) {
    flattenDepths(sc._model);
    specScopes(sc._model);
  }
  // SCION has no microstep limit: a chart that never stabilises would hang the test
  let microsteps = 0;
  const trail: string[] = [];
  sc.on('onBigStepBegin', () => { microsteps = 0; trail.length = 0; });
  sc.on('onSmallStepBegin', (event: ScionEvent | undefined) => {
    trail.push(event?.name ?? '(eventless)');
    if (trail.length > 20) trail.shift();
    if (++microsteps > 10_000) throw new Error(`SCION did not stabilise within 10000 microsteps; last events: ${trail.join(', ')}`);
  });
  try {
    sc.start();
    record();
    drainExternal();
    for (const step of steps) {
      if (sc.isFinal()) break;
      if (step.kind === 'event') {
        macrostep({ name: step.name, data: step.data });
        drainExternal();
      } else {
        const end = timers.now() + step.ms;
        while (!sc.isFinal() && timers.fireNext(end)) { /* one timer at a time */ }
        timers.setTime(end);
      }
    }
  } catch (err) {
    log.failure = `SCION threw: ${(err as Error).stack ?? String(err)}`;
  }
  return log;
}
