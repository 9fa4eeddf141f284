/**
 * The trace: a typed stream of what sessions do. Documented in docs/reference/trace-format.md,
 * schema in schemas/trace.schema.json. Every record has `t` (engine clock, ms), `session` and `type`.
 */
export type TraceEvent = TraceBase & TraceBody;

export interface TraceBase {
  /** Engine clock time in ms (virtual time under the virtual clock). */
  readonly t: number;
  readonly session: string;
}

export type TraceBody =
  | { readonly type: 'session.start'; readonly chart: string; readonly name: string | null; readonly parent: string | null }
  | { readonly type: 'session.end'; readonly status: string; readonly final: string | null; readonly message?: string }
  /** One macrostep: the external event that started it (null for the initial macrostep). */
  | { readonly type: 'macrostep'; readonly event: string | null; readonly configuration: readonly string[] }
  | { readonly type: 'microstep'; readonly event: string | null; readonly transitions: readonly TraceTransition[] }
  | { readonly type: 'exit'; readonly state: string }
  | { readonly type: 'enter'; readonly state: string }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly location: string }
  | { readonly type: 'log'; readonly label: string | null; readonly value: unknown; readonly location: string }
  | { readonly type: 'send.scheduled'; readonly sendid: string; readonly event: string | null; readonly target: string | null; readonly sendtype: string; readonly due: number }
  | { readonly type: 'send.fired'; readonly sendid: string; readonly event: string | null; readonly target: string | null }
  | { readonly type: 'send.cancelled'; readonly sendid: string }
  | { readonly type: 'invoke.start'; readonly invokeid: string; readonly invoketype: string; readonly src: string | null }
  | { readonly type: 'invoke.done'; readonly invokeid: string }
  | { readonly type: 'invoke.cancel'; readonly invokeid: string }
  | { readonly type: 'adapter.request'; readonly requestid: string; readonly action: string; readonly data: unknown }
  | { readonly type: 'adapter.response'; readonly requestid: string; readonly action: string; readonly outcome: 'done' | 'error'; readonly data: unknown };

export interface TraceTransition {
  readonly source: string;
  readonly targets: readonly string[];
  readonly event: readonly string[];
  readonly location: string;
}

export type TraceListener = (event: TraceEvent) => void;

/** The node:diagnostics_channel name the engine publishes every trace record on. */
export const TRACE_CHANNEL = 'orchestrion:trace';
