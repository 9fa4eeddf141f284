/** How the CLI prints a <log> value: strings as they are, everything else as JSON when it can be. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return '[function]';
  if (value && typeof value === 'object' && 'nodeType' in value) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
