/**
 * CSS2 time values as <send delay> uses them: "5s", "200ms", ".5s", "1.5s". Returns
 * milliseconds, or null when the text is not a time. Minutes/hours ("1m", "1h") are accepted
 * too, as several engines do.
 */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h)\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ms': return n;
    case 's': return n * 1000;
    case 'm': case 'min': return n * 60_000;
    default: return n * 3_600_000;
  }
}
