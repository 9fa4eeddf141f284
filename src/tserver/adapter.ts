/**
 * The T-Server adapter interface: how the engine reaches a telephony switch. One adapter per
 * switch. It knows nothing of SCXML: requests go in as plain objects and answers come back as
 * promises (a real switch answers asynchronously; nothing may assume the simulated switch's
 * immediate answers), and everything the switch does on its own arrives as CallEvents.
 */

export type DnType = 'extension' | 'routingpoint' | 'trunk' | 'queue' | 'agent';

export type PartyState = 'dialing' | 'ringing' | 'established' | 'held' | 'released';

/** The role a party plays in a call. */
export type PartyRole = 'origination' | 'destination' | 'routingpoint' | 'conference' | 'transfer';

export interface Party {
  readonly dn: string;
  readonly switch: string;
  readonly role: PartyRole;
  readonly state: PartyState;
}

export type CallState = 'ringing' | 'queued' | 'established' | 'held' | 'released';

/** A call as the switch sees it; parties in the order they joined (first and last matter for targeting). */
export interface CallInfo {
  /** The switch's connection id; the engine uses it as the interaction's g_uid. */
  readonly callId: string;
  readonly switch: string;
  readonly type: 'voice';
  readonly state: CallState;
  readonly parties: readonly Party[];
  /** Attached (user) data, key/value. */
  readonly udata: Readonly<Record<string, unknown>>;
  /**
   * Set when an inbound call was diverted from a routing point to a destination outside the
   * switch and answered there: requests with no resource then go to this SIP Server.
   */
  readonly divertedTo?: { readonly sipServer: string; readonly dn: string };
}

/** Errors the adapter rejects with; `code` is short and stable, `description` is for people. */
export class AdapterError extends Error {
  constructor(readonly code: string, readonly description: string) {
    super(`${code}: ${description}`);
    this.name = 'AdapterError';
  }
}

/** T-Lib TPrivateService. */
export interface PrivateServiceRequest {
  readonly serviceId: number;
  readonly callId: string | null;
  /** The DN the request is made on; null when only the switch was determined. */
  readonly thisDn: string | null;
  readonly udata: Readonly<Record<string, unknown>>;
  readonly reasons: Readonly<Record<string, unknown>>;
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface MakeCallRequest {
  readonly from: string;
  readonly to: string;
  readonly type: 'regular' | 'agent' | 'supervisor' | 'priority' | 'agentpriority' | 'predictive';
  readonly udata?: Readonly<Record<string, unknown>>;
}

export interface PartyRequest {
  readonly callId: string;
  /** The party the request acts on (its DN); null lets the switch pick (e.g. the routing point). */
  readonly dn: string | null;
}

/** Everything the switch does that the engine should know, in order. */
export type CallEvent =
  | { readonly type: 'call.created'; readonly call: CallInfo }
  | { readonly type: 'call.changed'; readonly call: CallInfo; readonly dn: string | null }
  | { readonly type: 'call.released'; readonly call: CallInfo }
  | { readonly type: 'udata.changed'; readonly call: CallInfo }
  | { readonly type: 'privateinfo'; readonly call: CallInfo | null; readonly serviceId: number; readonly referenceId: string; readonly data: Readonly<Record<string, unknown>> }
  | { readonly type: 'link'; readonly connected: boolean };

export interface TServerAdapter {
  /** The switch this adapter serves. */
  readonly switchName: string;
  /** Is the link to the T-Server up? Requests on a link that is down fail with code "linkdown". */
  readonly connected: boolean;
  /** Does this switch have the DN? */
  hasDn(dn: string): boolean;
  call(callId: string): CallInfo | undefined;

  /** Resolves once the request was accepted and sent; `referenceId` identifies it in later events. */
  privateService(request: PrivateServiceRequest): Promise<{ readonly referenceId: string }>;
  makeCall(request: MakeCallRequest): Promise<{ readonly callId: string }>;
  /** Route a call waiting at a routing point (or redirect a ringing party) to `to`. */
  redirect(request: PartyRequest & { readonly to: string }): Promise<void>;
  /** Release a party (or the whole call when dn is null). */
  release(request: PartyRequest & { readonly reason?: string }): Promise<void>;
  hold(request: PartyRequest): Promise<void>;
  retrieve(request: PartyRequest): Promise<void>;
  singleStepTransfer(request: PartyRequest & { readonly to: string }): Promise<void>;
  /** Single-step conference: bring `dn` into the call. */
  addParty(request: { readonly callId: string; readonly dn: string }): Promise<void>;
  deleteParty(request: { readonly callId: string; readonly dn: string }): Promise<void>;
  updateUserData(request: { readonly callId: string; readonly udata: Readonly<Record<string, unknown>> }): Promise<void>;
  deleteUserData(request: { readonly callId: string; readonly keys: readonly string[] | null }): Promise<void>;

  /** Subscribe to the switch's events; returns the unsubscribe function. */
  onEvent(listener: (event: CallEvent) => void): () => void;
}
