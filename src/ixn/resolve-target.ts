import type { CallInfo } from '../tserver/adapter.js';
import { ActionError } from '../runtime/async-action.js';

/** Where a request goes: the switch (its adapter) and, when determined, the DN it is made on. */
export interface Target {
  readonly switchName: string;
  readonly thisDn: string | null;
}

export interface ResourceSpec {
  readonly dn?: string;
  readonly switch?: string;
}

/**
 * The `resource` attribute of ixn actions: a DN ("9000"), "dn@switch", "@switch", or {dn?, switch?}.
 * Anything else is a request error (error.<prefix>.<action>, "invalidresource").
 */
export function parseResource(value: unknown): ResourceSpec {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string' || typeof value === 'number') {
    const text = String(value);
    const at = text.lastIndexOf('@');
    if (at < 0) return { dn: text };
    // "dn@switch"; "@switch" names only the switch, "dn@" only the DN.
    const dn = text.slice(0, at);
    const sw = text.slice(at + 1);
    return { ...(dn !== '' ? { dn } : {}), ...(sw !== '' ? { switch: sw } : {}) };
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const given = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
    const dn = given(o.dn);
    const sw = given(o.switch);
    return { ...(dn !== undefined ? { dn } : {}), ...(sw !== undefined ? { switch: sw } : {}) };
  }
  throw new ActionError('invalidresource', `resource must be a DN, "dn@switch" or {dn, switch}, not ${JSON.stringify(value)}`);
}

/**
 * The vendor's target rules for T-Server requests (privateservice and call control):
 *  - switch and DN → that switch, on that DN;
 *  - only the switch → that switch, no DN;
 *  - only a DN → the switch of the first party of the interaction with that DN, on that DN;
 *  - nothing → when the call was diverted from a routing point to an external destination and
 *    answered there, the SIP Server of that call; otherwise the switch of the last party, no DN;
 *  - nothing determinable → "invaliddestination".
 */
export function resolveTarget(resource: ResourceSpec, call: CallInfo, knownSwitch: (name: string) => boolean): Target {
  if (resource.switch !== undefined) {
    if (!knownSwitch(resource.switch)) throw new ActionError('invaliddestination', `no T-Server is configured for switch '${resource.switch}'`);
    return { switchName: resource.switch, thisDn: resource.dn ?? null };
  }
  if (resource.dn !== undefined) {
    const party = call.parties.find((p) => p.dn === resource.dn);
    if (!party) throw new ActionError('invaliddestination', `DN '${resource.dn}' is not a party of interaction ${call.callId}`);
    return { switchName: party.switch, thisDn: resource.dn };
  }
  if (call.divertedTo && call.state !== 'released') return { switchName: call.divertedTo.sipServer, thisDn: null };
  const last = call.parties[call.parties.length - 1];
  if (!last) throw new ActionError('invaliddestination', `interaction ${call.callId} has no party to direct the request to`);
  return { switchName: last.switch, thisDn: null };
}
