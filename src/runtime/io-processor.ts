import type { SendRequest } from '../exec/context.js';
import type { Session } from './session.js';

/**
 * An Event I/O Processor (W3C 6.2, appendix C): how <send> of its type reaches a target, and
 * what location other parties use to reach a session through it.
 */
export interface EventIOProcessor {
  /** The type URI, e.g. http://www.w3.org/TR/scxml/#SCXMLEventProcessor. */
  readonly type: string;
  /** Short names accepted in <send type> and used as _ioprocessors keys (e.g. "scxml"). */
  readonly aliases: readonly string[];
  /** The address of `session` for this processor, or undefined when it cannot be reached by it. */
  location(session: Session): string | undefined;
  /**
   * Deliver a send. Throw an EvaluationError for a target this processor cannot address
   * (error.execution); report an unreachable target through session.raisePlatformError('error.communication', …).
   */
  send(from: Session, request: SendRequest): void;
}
