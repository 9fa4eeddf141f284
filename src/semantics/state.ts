import type { CompiledChart, ExecBlock, InvokeDef, StateNode, DoneData, Transition } from '../model/chart.js';
import type { ScxmlEvent } from '../model/event.js';
import type { Fifo } from '../model/fifo.js';
import type { SessionDataModel } from '../datamodel/datamodel.js';
import type { ChartPlans } from './plans.js';

/**
 * Everything the W3C algorithm needs to run, and nothing more. The algorithm itself is pure:
 * anything that touches the world (running executable content, starting or cancelling
 * invokes) goes through the host.
 */
export interface AlgorithmHost {
  /** Run a block of executable content; failures become error.execution on the internal queue. */
  execute(block: ExecBlock): void;
  /** Evaluate <donedata> into event data (errors raise error.execution, data is then undefined). */
  doneData(donedata: DoneData): unknown;
  /** Initialise a state's <data> elements (all at start with early binding, on first entry with late). */
  initializeData(state: StateNode): void;
  startInvoke(invoke: InvokeDef): void;
  cancelInvoke(invoke: InvokeDef): void;
  /** Before an external event is processed: finalize and autoforward for invokes it concerns. */
  beforeExternalEvent(event: ScxmlEvent, active: readonly StateNode[]): void;
}

/** Observes the algorithm (traces); null when nobody listens, so it costs nothing then. */
export interface AlgorithmObserver {
  enter(state: StateNode): void;
  exit(state: StateNode): void;
  microstep(event: ScxmlEvent | null, transitions: readonly Transition[]): void;
  /** An error event the algorithm itself raised (a cond that failed). */
  error(event: ScxmlEvent): void;
}

export interface InterpreterState {
  readonly chart: CompiledChart;
  /** The chart's precomputed plans (chartPlans(chart)). */
  readonly plans: ChartPlans;
  readonly dm: SessionDataModel;
  readonly host: AlgorithmHost;
  /**
   * Active flags, indexed by StateNode.index; from enteredOffset on, the flags of the states
   * entered at least once (late binding initialises data on first entry).
   */
  readonly active: Uint8Array;
  readonly enteredOffset: number;
  /** History values by history StateNode.index. */
  readonly historyValue: Map<number, StateNode[]>;
  readonly internalQueue: Fifo<ScxmlEvent>;
  readonly statesToInvoke: Set<StateNode>;
  running: boolean;
  /** The top-level final state reached, once the session has ended by one. */
  finalState: StateNode | null;
  /** Microsteps allowed in one macrostep before the chart is declared runaway. */
  readonly maxMicrosteps: number;
  observer: AlgorithmObserver | null;
}

/** Where `state`'s entered flag is in InterpreterState.active. */
export function enteredFlag(s: InterpreterState, state: StateNode): number {
  return s.enteredOffset + state.index;
}
