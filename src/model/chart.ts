import type { SourceLocation } from './location.js';
import type { Diagnostic } from './diagnostics.js';

/**
 * The immutable compiled chart. Sessions share it; nothing in it changes after load.
 * Precomputed here so the algorithm never recomputes per event: document order, ancestry,
 * transition domains, and the expressions the datamodel compiles once.
 */

export type StateKind = 'scxml' | 'state' | 'parallel' | 'final' | 'history';

/** An expression, location or script of the chart; the datamodel compiles each once, by id. */
export interface CodeRef {
  readonly id: number;
  readonly kind: 'expr' | 'cond' | 'location' | 'script';
  readonly source: string;
  readonly loc: SourceLocation;
}

/** One compiled executable-content element, handled by the action registered for its name. */
export interface ActionNode {
  readonly action: ActionDefinition<unknown>;
  readonly compiled: unknown;
  readonly loc: SourceLocation;
  readonly element: string;
}

export type ExecBlock = readonly ActionNode[];

export interface DataDecl {
  readonly id: string;
  readonly expr: CodeRef | null;
  /** Inline content or the content of src, already converted to a value at load. */
  readonly inline: InlineValue | null;
  readonly loc: SourceLocation;
}

/** Content known at load: a JSON-able value, an XML fragment (made into a DOM per use), or text. */
export type InlineValue =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'xml'; readonly xml: string }
  | { readonly kind: 'text'; readonly text: string };

export interface ParamDecl {
  readonly name: string;
  readonly expr: CodeRef | null;
  readonly location: CodeRef | null;
  readonly loc: SourceLocation;
}

export interface ContentDecl {
  readonly expr: CodeRef | null;
  readonly inline: InlineValue | null;
  readonly loc: SourceLocation;
}

export interface DoneData {
  readonly content: ContentDecl | null;
  readonly params: readonly ParamDecl[];
}

export interface InvokeDef {
  readonly index: number;
  readonly state: StateNode;
  readonly type: string | null;
  readonly typeexpr: CodeRef | null;
  readonly src: string | null;
  readonly srcexpr: CodeRef | null;
  readonly id: string | null;
  readonly idlocation: CodeRef | null;
  readonly namelist: readonly CodeRef[];
  readonly params: readonly ParamDecl[];
  readonly content: ContentDecl | null;
  /** Inline <content><scxml>…</scxml></content> compiled at load with the parent. */
  readonly inlineChart: CompiledChart | null;
  readonly autoforward: boolean;
  readonly finalize: ExecBlock;
  readonly loc: SourceLocation;
}

export interface Transition {
  /** Position among all transitions in document order. */
  readonly index: number;
  readonly source: StateNode;
  /** Event descriptors; empty for an eventless transition. `*` matches any event. */
  readonly events: readonly string[];
  readonly cond: CodeRef | null;
  readonly targets: readonly StateNode[];
  readonly type: 'internal' | 'external';
  readonly content: ExecBlock;
  /** The transition domain (W3C getTransitionDomain), computed once at load; null when targetless. */
  domain: StateNode | null;
  readonly loc: SourceLocation;
}

export interface StateNode {
  /** Document order position, also the index into per-session arrays. */
  readonly index: number;
  readonly id: string;
  readonly generatedId: boolean;
  readonly kind: StateKind;
  readonly parent: StateNode | null;
  /** Child states (state, parallel, final, history) in document order. */
  readonly children: StateNode[];
  /** Proper ancestors, nearest first. */
  readonly ancestors: StateNode[];
  readonly depth: number;
  readonly transitions: Transition[];
  /** The initial transition of a compound state (from <initial>, the initial attribute or the first child). */
  initial: Transition | null;
  readonly onentry: ExecBlock[];
  readonly onexit: ExecBlock[];
  readonly data: DataDecl[];
  readonly invokes: InvokeDef[];
  donedata: DoneData | null;
  readonly historyType: 'shallow' | 'deep' | null;
  /** For history states: the default transition. */
  readonly loc: SourceLocation;
  isAtomic: boolean;
  isCompound: boolean;
}

export interface CompiledChart {
  readonly file: string;
  readonly name: string | null;
  readonly datamodel: string;
  /** Per-chart sandbox override (orx:sandbox on <scxml>), or null for the engine's choice. */
  readonly sandbox: 'fast' | 'isolated' | null;
  readonly binding: 'early' | 'late';
  readonly root: StateNode;
  /** Every state in document order; states[i].index === i. */
  readonly states: readonly StateNode[];
  readonly stateById: ReadonlyMap<string, StateNode>;
  readonly transitions: readonly Transition[];
  /** Every expression, location and script, by CodeRef.id. */
  readonly code: readonly CodeRef[];
  /** Top-level scripts, executed once at the start. */
  readonly script: ExecBlock;
  readonly diagnostics: readonly Diagnostic[];
  /** Base for resolving relative URLs (src of invoke, data, script). */
  readonly baseUrl: URL;
  /** sha256 of the document text: snapshots name the chart they were taken against. */
  readonly fingerprint: string;
  /** For a chart embedded in an <invoke>: where (snapshots of its sessions restore through it). */
  readonly embeddedIn: { readonly chart: CompiledChart; readonly state: string; readonly invoke: number } | null;
}

/* ---- executable content extension contract ---- */

import type { ExecContext } from '../exec/context.js';
import type { CompileContext } from '../compile/compile-context.js';
import type { XmlElement } from '../parse/xml-tree.js';

/**
 * An executable-content element keyed by (namespace URI, local name). The core elements and
 * every extension (ixn:*, a user's own actions) register through this one contract.
 */
export interface ActionDefinition<C> {
  readonly namespace: string;
  readonly name: string;
  /** Validate attributes, compile expressions, report diagnostics; return what execute needs. */
  compile(element: XmlElement, ctx: CompileContext): C;
  /** Run it. Throwing stops the enclosing block and raises error.execution. */
  execute(compiled: C, ctx: ExecContext, node: ActionNode): void;
}
