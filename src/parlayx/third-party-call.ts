/**
 * Third Party Call over engine sessions: each call is a session of the call chart, started on
 * behalf of the authenticated account; the call identifier is the session id. Requests become
 * events to the session; status reads return the dictionary the chart keeps (call-module.ts).
 */
import type { Engine } from '../runtime/engine.js';
import type { CompiledChart } from '../model/chart.js';
import type { Account } from './accounts.js';
import { normaliseAddress } from './accounts.js';
import type { CallRecord, ParlayxCallModule, StatusEntry } from './call-module.js';
import { ParlayxFault, unknownIdentifier } from './faults.js';

export interface ChargingInformation {
  readonly description: string;
  readonly currency?: string;
  readonly amount?: string;
  readonly code?: string;
}

/** Participant statuses and causes of the 3.0 call sessions, from the call-level ones. */
const PARTICIPANT_STATUS = { CallInitial: 'CallParticipantInitial', CallConnected: 'CallParticipantConnected', CallTerminated: 'CallParticipantTerminated' } as const;
const PARTICIPANT_CAUSE: Record<string, string> = {
  CallingPartyNoAnswer: 'CallParticipantNoAnswer', CalledPartyNoAnswer: 'CallParticipantNoAnswer',
  CallingPartyBusy: 'CallParticipantBusy', CalledPartyBusy: 'CallParticipantBusy',
  CallingPartyNotReachable: 'CallParticipantNotReachable', CalledPartyNotReachable: 'CallParticipantNotReachable',
  CallHangUp: 'CallParticipantHangUp', CallAborted: 'CallParticipantAborted',
};

export class ThirdPartyCallService {
  constructor(
    private readonly engine: Engine,
    private readonly calls: ParlayxCallModule,
    private readonly chart: CompiledChart,
    /** The trunk DN third-party calls start from (the chart's `gateway`). */
    private readonly gateway: string,
  ) {}

  /* ---------- 2.x ---------- */

  makeCall(account: Account, input: { callingParty: string; calledParty: string; charging?: ChargingInformation }): string {
    return this.start(account, [input.callingParty, input.calledParty], input.charging ?? null, ['callingParty', 'calledParty']);
  }

  getCallInformation(account: Account, input: { callIdentifier: string }): Record<string, unknown> {
    const record = this.find(account, 'callIdentifier', input.callIdentifier);
    return this.information(record.call);
  }

  endCall(account: Account, input: { callIdentifier: string }): void {
    this.sendTo(this.live(account, 'callIdentifier', input.callIdentifier), 'endCall');
  }

  cancelCall(account: Account, input: { callIdentifier: string }): void {
    const record = this.live(account, 'callIdentifier', input.callIdentifier);
    if (record.call.status !== 'CallInitial') throw new ParlayxFault('SVC0002', [`callIdentifier: call ${input.callIdentifier} is ${record.call.status}: only a call not yet connected can be cancelled (use endCall)`]);
    this.sendTo(record, 'cancelCall');
  }

  /* ---------- 3.0 call sessions ---------- */

  makeCallSession(account: Account, input: { callParticipants: string[]; charging?: ChargingInformation }): string {
    return this.start(account, input.callParticipants, input.charging ?? null, input.callParticipants.map((_, i) => `callParticipants[${i}]`));
  }

  addCallParticipant(account: Account, input: { callSessionIdentifier: string; callParticipant: string }): void {
    const record = this.live(account, 'callSessionIdentifier', input.callSessionIdentifier);
    checkAddress(input.callParticipant, 'callParticipant');
    const existing = record.participants.get(input.callParticipant);
    if (existing && existing.status !== 'CallTerminated') throw new ParlayxFault('SVC0002', [`callParticipant: ${input.callParticipant} is already in call session ${record.sessionId}`]);
    this.sendTo(record, 'addCallPeer', { participant: input.callParticipant });
  }

  deleteCallParticipant(account: Account, input: { callSessionIdentifier: string; callParticipant: string }): void {
    const record = this.live(account, 'callSessionIdentifier', input.callSessionIdentifier);
    if (this.participant(record, input.callParticipant).status === 'CallTerminated') throw new ParlayxFault('SVC0002', [`callParticipant: ${input.callParticipant} has already left call session ${record.sessionId}`]);
    this.sendTo(record, 'delCallPeer', { participant: input.callParticipant });
  }

  /** The participant leaves the source session and is offered in the destination session. */
  transferCallParticipant(account: Account, input: { destinationCallSessionIdentifier: string; sourceCallSessionIdentifier: string; callParticipant: string }): void {
    const destination = this.live(account, 'destinationCallSessionIdentifier', input.destinationCallSessionIdentifier);
    const source = this.live(account, 'sourceCallSessionIdentifier', input.sourceCallSessionIdentifier);
    if (source === destination) throw new ParlayxFault('SVC0002', ['destinationCallSessionIdentifier: the source and destination call sessions are the same']);
    const p = this.participant(source, input.callParticipant);
    if (p.status !== 'CallConnected') throw new ParlayxFault('SVC0002', [`callParticipant: ${input.callParticipant} is ${p.status}: only a connected participant can be transferred`]);
    this.sendTo(source, 'transferTarget', { session: destination.sessionId });
    this.sendTo(source, 'transferCallPeer', { participant: input.callParticipant });
  }

  getCallParticipantInformation(account: Account, input: { callSessionIdentifier: string; callParticipant: string }): Record<string, unknown> {
    const record = this.find(account, 'callSessionIdentifier', input.callSessionIdentifier);
    return this.participantInformation(input.callParticipant, this.participant(record, input.callParticipant));
  }

  getCallSessionInformation(account: Account, input: { callSessionIdentifier: string }): Record<string, unknown> {
    const record = this.find(account, 'callSessionIdentifier', input.callSessionIdentifier);
    return { callParticipantInformation: [...record.participants].map(([uri, e]) => this.participantInformation(uri, e)) };
  }

  endCallSession(account: Account, input: { callSessionIdentifier: string }): void {
    this.sendTo(this.live(account, 'callSessionIdentifier', input.callSessionIdentifier), 'endCall');
  }

  /* ---------- plumbing ---------- */

  private start(account: Account, participants: string[], charging: ChargingInformation | null, parts: string[]): string {
    if (!account.settings.mayControlCalls) throw new ParlayxFault('POL0001', [`account '${account.name}' may not place calls`]);
    participants.forEach((p, i) => checkAddress(p, parts[i]!));
    if (new Set(participants).size !== participants.length) throw new ParlayxFault('SVC0002', [`${parts[1]}: a party cannot call itself`]);
    if (charging) checkCharging(charging);
    const session = this.engine.start(this.chart, { data: { participants, charging, gateway: this.gateway } });
    this.calls.track(session.id, account.name);
    return session.id;
  }

  /** A call of this account, running or lingering; anything else is an unknown identifier. */
  private find(account: Account, part: string, id: string): CallRecord {
    const record = this.calls.record(id, account.name);
    if (!record) throw unknownIdentifier(part, id);
    return record;
  }

  /** A call that can still take requests. */
  private live(account: Account, part: string, id: string): CallRecord {
    const record = this.find(account, part, id);
    if (record.sessionEnded || !this.engine.session(id)) throw new ParlayxFault('SVC0002', [`${part}: call ${id} has ended (${record.call.terminationCause ?? 'CallTerminated'})`]);
    return record;
  }

  private participant(record: CallRecord, uri: string): StatusEntry {
    const p = record.participants.get(uri);
    if (!p) throw unknownIdentifier('callParticipant', uri);
    return p;
  }

  private sendTo(record: CallRecord, event: string, data?: Record<string, unknown>): void {
    this.engine.session(record.sessionId)?.send(event, data);
  }

  private information(entry: StatusEntry): Record<string, unknown> {
    return {
      callStatus: entry.status,
      startTime: entry.startedAt === null ? undefined : new Date(entry.startedAt).toISOString(),
      duration: this.calls.durationOf(entry),
      terminationCause: entry.status === 'CallTerminated' ? entry.terminationCause ?? 'CallAborted' : undefined,
    };
  }

  private participantInformation(uri: string, entry: StatusEntry): Record<string, unknown> {
    const call = this.information(entry);
    return {
      callParticipantIdentifier: uri,
      callParticipantStatus: PARTICIPANT_STATUS[entry.status],
      callParticipantStartTime: call.startTime,
      callParticipantDuration: call.duration,
      callParticipantTerminationCause: call.terminationCause === undefined ? undefined : PARTICIPANT_CAUSE[String(call.terminationCause)],
    };
  }
}

function checkAddress(uri: string, part: string): void {
  if (!/^(tel|sips?):/i.test(uri) || normaliseAddress(uri) === '') throw new ParlayxFault('SVC0002', [`${part}: '${uri}' is not a tel: or sip: address`]);
}

/** ChargingInformation: a currency is ISO 4217 (three capitals), an amount is not negative. */
function checkCharging(c: ChargingInformation): void {
  if (c.currency !== undefined && !/^[A-Z]{3}$/.test(c.currency)) throw new ParlayxFault('SVC0007');
  if (c.amount !== undefined && c.amount.startsWith('-')) throw new ParlayxFault('SVC0007');
}
