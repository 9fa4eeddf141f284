/** Where copied objects and arrays are made: the host, or a sandbox realm's own constructors. */
export interface ValueFactory {
  newObject(): Record<string, unknown>;
  newArray(): unknown[];
}

export const HOST_VALUES: ValueFactory = { newObject: () => ({}), newArray: () => [] };

/**
 * A deep copy of plain data (objects, arrays, primitives), for values crossing a session or
 * realm boundary, so two sessions never share a mutable object and a realm never receives a
 * host object. Class instances the chart cannot have built itself (DOM nodes) are passed by
 * reference; functions are dropped; cycles are preserved.
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
  if (Object.prototype.toString.call(value) === '[object Date]') return new Date((value as Date).getTime());
  const proto = Object.getPrototypeOf(value);
  const isPlain = proto === null || Object.getPrototypeOf(proto) === null;
  if (!isPlain) return value;
  const out = factory.newObject();
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = copyData(v, factory, seen);
  return out;
}
