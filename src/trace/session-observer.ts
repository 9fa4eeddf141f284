import type { StateNode, Transition } from '../model/chart.js';
import type { ScxmlEvent } from '../model/event.js';
import { formatLocation } from '../model/location.js';
import type { AlgorithmObserver } from '../semantics/state.js';
import type { Tracer } from './tracer.js';

/** Turns what the algorithm does in one session into trace records. */
export class SessionObserver implements AlgorithmObserver {
  constructor(private readonly tracer: Tracer, private readonly session: string) {}

  enter(state: StateNode): void {
    this.tracer.emit(this.session, { type: 'enter', state: state.id });
  }

  exit(state: StateNode): void {
    this.tracer.emit(this.session, { type: 'exit', state: state.id });
  }

  microstep(event: ScxmlEvent | null, transitions: readonly Transition[]): void {
    this.tracer.emit(this.session, {
      type: 'microstep',
      event: event?.name ?? null,
      transitions: transitions.map((t) => ({
        source: t.source.id, targets: t.targets.map((x) => x.id), event: t.events, location: formatLocation(t.loc),
      })),
    });
  }

  error(event: ScxmlEvent): void {
    const data = (event.data ?? {}) as { message?: unknown; location?: unknown };
    this.tracer.emit(this.session, {
      type: 'error', name: event.name, message: String(data.message ?? ''), location: String(data.location ?? ''),
    });
  }
}
