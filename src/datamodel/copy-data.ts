import { XmlDocumentValue } from './xml-value.js';

/** Where copied objects and arrays are made: the host, or a sandbox realm's own constructors. */
export interface ValueFactory {
  newObject(): Record<string, unknown>;
  newArray(): unknown[];
  /**
   * A non-plain object (class instance, DOM node): how it crosses. A sandbox re-creates what it
   * can (a DOM is re-parsed) and never takes it as is; COPY_AS_PLAIN asks for a copy of its own
   * enumerable properties (made by copyData, iteratively, like any plain object).
   */
  foreign(value: object, seen: Map<object, unknown>): unknown;
}

/**
 * Values leaving a sandbox for the host: plain data only. A DOM becomes its serialisation
 * (XmlDocumentValue), a date a host Date, any other object a plain copy of its own enumerable
 * properties — never the sandbox's object itself, whose methods the host might call.
 */
export const HOST_VALUES: ValueFactory = {
  newObject: () => ({}),
  newArray: () => [],
  foreign: (value) => {
    if (value instanceof XmlDocumentValue) return value;
    if (isDomNode(value)) return new XmlDocumentValue(serialize(value));
    if (Object.prototype.toString.call(value) === '[object Date]') return new Date(Date.prototype.getTime.call(value));
    return COPY_AS_PLAIN;
  },
};

/** What ValueFactory.foreign returns for an object to be copied as plain data. */
export const COPY_AS_PLAIN: unique symbol = Symbol('copy as plain data');

/** A copy of an object's own enumerable properties (its class is not carried over). */
export function plainCopy(value: object, factory: ValueFactory, seen: Map<object, unknown>): Record<string, unknown> {
  return copyTree(value, factory, seen, true) as Record<string, unknown>;
}

/**
 * How deep data crossing a boundary may be nested. Deeper values are refused with a
 * DataDepthError (a RangeError): the copy itself is iterative, but what receives it is not
 * (JSON.stringify for traces and the isolated sandbox, JSON.parse inside QuickJS, chart code).
 */
export const MAX_DATA_DEPTH = 1000;

export class DataDepthError extends RangeError {
  constructor() {
    super(`data nested deeper than ${MAX_DATA_DEPTH} levels cannot cross into or out of a session`);
    this.name = 'DataDepthError';
  }
}

/** A DOM node's XML text, read through the DOM's own serialiser. */
function serialize(node: { toString(): string }): string {
  const text = node.toString();
  return typeof text === 'string' ? text : '';
}

/** A DOM node (of any realm), recognised by shape. */
export function isDomNode(value: unknown): value is { nodeType: number; toString(): string } {
  return typeof value === 'object' && value !== null && typeof (value as { nodeType?: unknown }).nodeType === 'number';
}

/**
 * A deep copy of plain data (objects, arrays, primitives), for values crossing a session or
 * realm boundary, so two sessions never share a mutable object and a sandbox never receives a
 * host object. Functions are dropped; cycles are preserved; dates stay dates. Iterative (no
 * host recursion per level); a value nested deeper than MAX_DATA_DEPTH throws DataDepthError.
 */
export function copyData(value: unknown, factory: ValueFactory = HOST_VALUES, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  return copyTree(value, factory, seen, false);
}

interface CopyTask { readonly from: object; readonly to: Record<string, unknown> | unknown[]; readonly depth: number }

function copyTree(root: object, factory: ValueFactory, seen: Map<object, unknown>, rootAsPlain: boolean): unknown {
  const tasks: CopyTask[] = [];
  // The copy of one value: a primitive, an object already copied, a leaf made by the factory,
  // or a new empty container whose contents become a task.
  const copyOne = (value: unknown, depth: number, asPlain = false): unknown => {
    if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
    const existing = seen.get(value);
    if (existing !== undefined) return existing;
    if (depth > MAX_DATA_DEPTH) throw new DataDepthError();
    let to: Record<string, unknown> | unknown[];
    if (Array.isArray(value)) to = factory.newArray();
    else {
      const proto = Object.getPrototypeOf(value) as object | null;
      const isPlain = asPlain || proto === null || Object.getPrototypeOf(proto) === null;
      if (!isPlain) {
        const leaf = factory.foreign(value, seen);
        if (leaf !== COPY_AS_PLAIN) return leaf;
      }
      to = factory.newObject();
    }
    seen.set(value, to);
    tasks.push({ from: value, to, depth });
    return to;
  };
  const out = copyOne(root, 1, rootAsPlain);
  for (let task = tasks.pop(); task; task = tasks.pop()) {
    const { from, to, depth } = task;
    if (Array.isArray(to)) for (const v of from as unknown[]) to.push(copyOne(v, depth + 1));
    else for (const [k, v] of Object.entries(from)) to[k] = copyOne(v, depth + 1);
  }
  return out;
}

/**
 * A tree of plain data for JSON: like copyData, but a value that refers back to one of its own
 * ancestors is left out (JSON cannot carry cycles; shared, non-cyclic references are copied).
 */
export function acyclicCopy(value: unknown, ancestors = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return undefined;
  if (value instanceof XmlDocumentValue || isDomNode(value)) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => acyclicCopy(v, ancestors));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = acyclicCopy(v, ancestors);
    return out;
  } finally {
    ancestors.delete(value);
  }
}
