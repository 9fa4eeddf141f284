/** application/x-www-form-urlencoded, as the SCXML and BasicHTTP processors put events on the wire. */
export function formEncode(event: string | undefined, pairs: readonly (readonly [string, unknown])[]): string {
  const params = new URLSearchParams();
  if (event !== undefined) params.append('_scxmleventname', event);
  for (const [k, v] of pairs) params.append(k, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
  return params.toString();
}
