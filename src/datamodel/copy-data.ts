/**
 * A deep copy of plain data (objects, arrays, primitives) for values leaving a session, so two
 * sessions never share a mutable object. Class instances the chart cannot have built itself
 * (DOM nodes) are passed by reference; cycles are preserved.
 */
export function copyData(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  const existing = seen.get(value);
  if (existing !== undefined) return existing;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(copyData(v, seen));
    return out;
  }
  if (value instanceof Date || Object.prototype.toString.call(value) === '[object Date]') return new Date((value as Date).getTime());
  const proto = Object.getPrototypeOf(value);
  const isPlain = proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
  if (!isPlain) return value;
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = copyData(v, seen);
  return out;
}
