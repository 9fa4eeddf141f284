import { externalEvent } from '../model/event.js';
import type { Engine } from './engine.js';

/** What an asynchronous action reports back (ORS convention, shared by ixn and billing actions). */
export interface AsyncActionRequest {
  /** Event prefix: `voice`, `interaction`, `billing`, … */
  readonly prefix: string;
  readonly action: string;
  readonly sessionId: string;
  readonly requestid: string;
  readonly interactionid?: string | null;
  /** What the request carries, for the trace. */
  readonly data?: unknown;
  /** Fails with error "timeout" when the operation takes longer (engine clock, so virtual time works). */
  readonly timeoutMs: number;
}

/** A failure with a short stable code (`error`) and a description for people. */
export class ActionError extends Error {
  constructor(readonly code: string, readonly description: string) {
    super(`${code}: ${description}`);
    this.name = 'ActionError';
  }
}

/**
 * Runs an action's operation outside the microstep and delivers its outcome to the session as
 * `<prefix>.<action>.done` or `error.<prefix>.<action>`, with `_event.data` =
 * `{requestid, interactionid, error?, description?}` plus what the operation returned.
 */
export function runAsyncAction(engine: Engine, request: AsyncActionRequest, operation: () => Promise<Record<string, unknown> | void>): void {
  const base = { requestid: request.requestid, interactionid: request.interactionid ?? undefined };
  const action = `${request.prefix}.${request.action}`;
  engine.session(request.sessionId)?.actionStarted({
    requestid: request.requestid, prefix: request.prefix, action: request.action, interactionid: request.interactionid ?? null,
  });
  const deliver = (name: string, data: Record<string, unknown>) => {
    const session = engine.session(request.sessionId);
    session?.actionEnded(request.requestid);
    session?.trace({ type: 'adapter.response', requestid: request.requestid, action, outcome: name.startsWith('error.') ? 'error' : 'done', data });
    session?.enqueue(externalEvent(name, data));
  };
  engine.session(request.sessionId)?.trace({ type: 'adapter.request', requestid: request.requestid, action, data: request.data ?? null });
  let timer: ReturnType<Engine['clock']['setTimer']> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = engine.clock.setTimer(request.timeoutMs, () => reject(new ActionError('timeout', `no answer within ${request.timeoutMs} ms`)));
  });
  const outcome = Promise.race([Promise.resolve().then(operation), timeout]).then(
    (extra) => deliver(`${request.prefix}.${request.action}.done`, { ...base, ...(extra ?? {}) }),
    (err: unknown) => {
      const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : 'unknown';
      const description = err && typeof err === 'object' && 'description' in err ? String((err as { description: unknown }).description) : (err as Error)?.message ?? String(err);
      deliver(`error.${request.prefix}.${request.action}`, { ...base, error: code, description });
    },
  ).finally(() => { if (timer) engine.clock.clearTimer(timer); });
  void engine.track(outcome);
}
