/** Where copied objects and arrays are made: the host, or a sandbox realm's own constructors. */
export interface ValueFactory {
  newObject(): Record<string, unknown>;
  newArray(): unknown[];
  /**
   * A non-plain object (class instance, DOM node): how it crosses. The host keeps it by
   * reference; a sandbox re-creates what it can (a DOM is re-parsed) and never takes it as is.
   */
  foreign(value: object): unknown;
}

export const HOST_VALUES: ValueFactory = { newObject: () => ({}), newArray: () => [], foreign: (v) => v };

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
  if (!isPlain) return factory.foreign(value);
  const out = factory.newObject();
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = copyData(v, factory, seen);
  return out;
}
