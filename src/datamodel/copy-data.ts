import { XmlDocumentValue } from './xml-value.js';

/** Where copied objects and arrays are made: the host, or a sandbox realm's own constructors. */
export interface ValueFactory {
  newObject(): Record<string, unknown>;
  newArray(): unknown[];
  /**
   * A non-plain object (class instance, DOM node): how it crosses. The host keeps it by
   * reference; a sandbox re-creates what it can (a DOM is re-parsed) and never takes it as is.
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
  foreign: (value, seen) => {
    if (value instanceof XmlDocumentValue) return value;
    if (isDomNode(value)) return new XmlDocumentValue(serialize(value));
    if (Object.prototype.toString.call(value) === '[object Date]') return new Date(Date.prototype.getTime.call(value));
    return plainCopy(value, HOST_VALUES, seen);
  },
};

/** A copy of an object's own enumerable properties (its class is not carried over). */
export function plainCopy(value: object, factory: ValueFactory, seen: Map<object, unknown>): Record<string, unknown> {
  const out = factory.newObject();
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = copyData(v, factory, seen);
  return out;
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
 * host object. Functions are dropped; cycles are preserved; dates stay dates.
 */
export function copyData(value: unknown, factory: ValueFactory = HOST_VALUES, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  const existing = seen.get(value);
  if (existing !== undefined) return existing;
  if (Array.isArray(value)) {
    const out = factory.newArray();
    seen.set(value, out);
    for (const v of value) out.push(copyData(v, factory, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  const isPlain = proto === null || Object.getPrototypeOf(proto) === null;
  if (!isPlain) return factory.foreign(value, seen);
  return plainCopy(value, factory, seen);
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
