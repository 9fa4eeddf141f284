/** The SCXML event as the _event system variable exposes it (W3C 5.10.1). */
export interface ScxmlEvent {
  readonly name: string;
  readonly type: 'platform' | 'internal' | 'external';
  readonly sendid: string | undefined;
  readonly origin: string | undefined;
  readonly origintype: string | undefined;
  readonly invokeid: string | undefined;
  readonly data: unknown;
  /** The event as it travelled (form-encoded for the SCXML and BasicHTTP processors). */
  readonly raw?: string;
}

export function internalEvent(name: string, data?: unknown): ScxmlEvent {
  return { name, type: 'internal', sendid: undefined, origin: undefined, origintype: undefined, invokeid: undefined, data };
}

export function platformEvent(name: string, data?: unknown, sendid?: string): ScxmlEvent {
  return { name, type: 'platform', sendid, origin: undefined, origintype: undefined, invokeid: undefined, data };
}

export function externalEvent(name: string, data?: unknown, fields: Partial<ScxmlEvent> = {}): ScxmlEvent {
  return {
    name, type: 'external', data,
    sendid: fields.sendid, origin: fields.origin, origintype: fields.origintype, invokeid: fields.invokeid,
    raw: fields.raw,
  };
}

/**
 * W3C 3.12.1: a descriptor matches when it equals the event name or is a dot-separated prefix
 * of it (tokens compared whole); a trailing ".*" or "." is ignored; "*" matches everything.
 */
export function nameMatches(descriptor: string, name: string): boolean {
  if (descriptor === '*' || descriptor === name) return true;
  let d = descriptor;
  if (d.endsWith('.*')) d = d.slice(0, -2);
  else if (d.endsWith('.')) d = d.slice(0, -1);
  return name === d || (name.length > d.length && name.startsWith(d) && name.charCodeAt(d.length) === 46);
}
