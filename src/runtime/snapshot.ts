import { XmlDocumentValue } from '../datamodel/xml-value.js';
import { isDomNode } from '../datamodel/copy-data.js';
import type { ScxmlEvent } from '../model/event.js';

/**
 * A session as versioned JSON, taken between macrosteps: enough to resume it in another process.
 * docs/reference/snapshots.md describes every field and the restore policies.
 */
export const SNAPSHOT_VERSION = 1;

export interface SessionSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly sessionId: string;
  /** Engine clock time when taken. */
  readonly savedAt: number;
  readonly chart: {
    readonly file: string;
    readonly name: string | null;
    /** sha256 of the document the session runs; restore refuses another unless told. */
    readonly fingerprint: string;
    /** Set for a chart embedded in an <invoke> of `file`. */
    readonly embedded: { readonly state: string; readonly invoke: number } | null;
  };
  readonly status: 'starting' | 'running';
  readonly parent: { readonly sessionId: string; readonly invokeid: string } | null;
  readonly configuration: readonly string[];
  readonly entered: readonly string[];
  readonly history: Readonly<Record<string, readonly string[]>>;
  /** Top-level variables (functions are re-created by re-running the top-level scripts). */
  readonly datamodel: Readonly<Record<string, unknown>>;
  readonly internalQueue: readonly SnapshotEvent[];
  readonly externalQueue: readonly SnapshotEvent[];
  /** Pending delayed sends with their absolute due time on the engine clock. */
  readonly delayedSends: readonly {
    readonly due: number;
    readonly request: {
      readonly event: string | null; readonly target: string | null; readonly type: string; readonly sendid: string;
      readonly anonymous: boolean; readonly data: unknown; readonly pairs: readonly (readonly [string, unknown])[];
    };
  }[];
  /** Running invocations: the state and invoke position, and the child session when it is one of ours. */
  readonly invocations: readonly { readonly invokeid: string; readonly state: string; readonly invoke: number; readonly child: string | null }[];
  readonly cancelledInvokes: readonly string[];
  /** Asynchronous actions (ixn, billing) still waiting for their outcome. */
  readonly pendingActions: readonly PendingAction[];
  /** What the engine's modules keep of the session (SessionHooks.persist), by module key; absent in older snapshots. */
  readonly modules?: Readonly<Record<string, unknown>>;
}

export interface PendingAction {
  readonly requestid: string;
  readonly prefix: string;
  readonly action: string;
  readonly interactionid: string | null;
}

export type SnapshotEvent = Omit<ScxmlEvent, 'data'> & { readonly data: unknown };

/**
 * Values as JSON: undefined, non-finite numbers, dates and XML survive with a tagged object
 * (`{"$orx": "undefined" | "number" | "date" | "xml", ...}`); functions are dropped.
 */
export function encodeValue(value: unknown, seen = new Set<object>()): unknown {
  if (value === undefined) return { $orx: 'undefined' };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $orx: 'number', value: String(value) };
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? { $orx: 'undefined' } : typeof value === 'bigint' ? String(value) : value;
  if (value instanceof XmlDocumentValue) return { $orx: 'xml', value: value.xml };
  if (isDomNode(value)) return { $orx: 'xml', value: String(value) };
  if (Object.prototype.toString.call(value) === '[object Date]') return { $orx: 'date', value: (value as Date).toISOString() };
  if (seen.has(value)) throw new Error('a datamodel value refers to itself: it cannot be saved');
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => encodeValue(v, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v !== 'function') out[k] = encodeValue(v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

export function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeValue);
  const tag = (value as { $orx?: unknown }).$orx;
  if (typeof tag === 'string') {
    const v = (value as { value?: unknown }).value;
    switch (tag) {
      case 'undefined': return undefined;
      case 'number': return Number(v);
      case 'date': return new Date(String(v));
      case 'xml': return new XmlDocumentValue(String(v));
      default: break;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeValue(v);
  return out;
}

export function encodeEvent(e: ScxmlEvent): SnapshotEvent {
  return { ...e, data: encodeValue(e.data) };
}

export function decodeEvent(e: SnapshotEvent): ScxmlEvent {
  return {
    name: e.name, type: e.type, sendid: e.sendid ?? undefined, origin: e.origin ?? undefined, origintype: e.origintype ?? undefined,
    invokeid: e.invokeid ?? undefined, data: decodeValue(e.data), raw: e.raw ?? undefined,
  };
}

/** Where snapshots are kept between macrosteps. Every call is async, so a server store fits too. */
export interface SessionStore {
  save(snapshot: SessionSnapshot): Promise<void>;
  delete(sessionId: string): Promise<void>;
  loadAll(): Promise<SessionSnapshot[]>;
  close(): Promise<void>;
}

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}
