import type { ActionNode, CodeRef, CompiledChart, ExecBlock } from '../model/chart.js';
import type { SessionDataModel } from '../datamodel/datamodel.js';

/** What <send> hands to the runtime once its attributes are evaluated. */
export interface SendRequest {
  readonly event: string | undefined;
  readonly target: string | undefined;
  readonly type: string;
  readonly sendid: string;
  /** True when the <send> had neither id nor idlocation: events then carry no sendid. */
  readonly anonymous: boolean;
  readonly delayMs: number;
  readonly data: unknown;
  /** namelist and param values in order, duplicates kept (the wire formats carry them all). */
  readonly pairs: readonly (readonly [string, unknown])[];
}

/**
 * The narrow door through which executable content touches its session. Effects (send, cancel,
 * log) are handed to the runtime; the action never sees timers, sockets or other sessions.
 */
export interface ExecContext {
  readonly sessionId: string;
  readonly chart: CompiledChart;
  readonly datamodel: SessionDataModel;
  /** Raise an event on the internal queue. */
  raise(name: string, data?: unknown): void;
  send(request: SendRequest): void;
  cancel(sendid: string): void;
  log(label: string | undefined, value: unknown, node: ActionNode): void;
  /** Run nested executable content (if/foreach bodies); errors propagate to the caller. */
  run(block: ExecBlock): void;
  /** A fresh id, unique in this engine (send ids, request ids). */
  uniqueId(prefix: string): string;
  /** Evaluate a location's root and, when undeclared, declare it (foreach item). */
  evaluate(ref: CodeRef): unknown;
  /** Services registered by extension modules (ixn, billing), by name. */
  service<T>(name: string): T | undefined;
}
