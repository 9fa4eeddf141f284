import type { CompiledChart } from '../model/chart.js';
import type { ScxmlEvent } from '../model/event.js';
import type { Session } from './session.js';

/** What <invoke> hands to an invoker once its attributes are evaluated. */
export interface InvokeRequest {
  readonly invokeid: string;
  readonly type: string;
  /** src/srcexpr resolved against the invoking chart's location. */
  readonly src: URL | null;
  /** Inline <content><scxml/></content>, compiled with the parent chart. */
  readonly chart: CompiledChart | null;
  /** The value of <content expr> or other inline content. */
  readonly content: unknown;
  /** namelist and param values. */
  readonly data: Record<string, unknown>;
  readonly parent: Session;
}

/** A running invocation, as its invoking session sees it. */
export interface Invocation {
  /** The invoked session, when it is a session of this engine (snapshots keep the link). */
  readonly sessionId?: string;
  /** An event for the invoked service (#_<invokeid> sends, autoforward). */
  deliver(event: ScxmlEvent): void;
  /** The invoking state was exited: stop the service without a done.invoke. */
  cancel(): void;
}

export interface Invoker {
  readonly types: readonly string[];
  /** Start the service; throw when it cannot start (the parent gets error.execution). */
  start(request: InvokeRequest): Invocation;
}
