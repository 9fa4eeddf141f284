/**
 * Call Notification and Call Direction: subscriptions are Signal Rules of the subscriber's
 * account; a call event reported by a call chart notifies every matching notification rule and
 * asks the matching direction rule (at most one per address and criterion) what to do.
 */
import { CALL_CRITERIA, normaliseAddress, ownsAddress, type Account, type AccountStore, type CallCriterion, type RuleKind, type SignalRule } from './accounts.js';
import type { ApplicationClient } from './app-client.js';
import type { CallAction, CallEventReport } from './call-module.js';
import { ParlayxFault } from './faults.js';

export interface StartRequest {
  readonly reference: { readonly endpoint: string; readonly interfaceName: string; readonly correlator: string };
  readonly addresses: readonly string[];
  readonly criteria: readonly CallCriterion[];
}

export interface StopRequest {
  readonly addresses: readonly string[];
  readonly criteria: readonly CallCriterion[];
}

export interface CallNotificationOptions {
  /** The Action when the direction application fails, answers nonsense or is too slow. Default Continue. */
  readonly defaultAction?: 'Continue' | 'EndCall';
  /** Reports a notification that could not be delivered (logged by the server). */
  readonly onDeliveryFailure?: (rule: SignalRule, error: Error) => void;
}

/** Sorted and de-duplicated: a rule's identity does not depend on the order the client listed things. */
const canonical = <T extends string>(values: readonly T[]): T[] => [...new Set(values)].sort();

export class CallNotificationService {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly client: ApplicationClient,
    private readonly options: CallNotificationOptions = {},
  ) {}

  /** start…Notification: checks permission, ownership, duplicates and overlaps, then stores one rule. */
  start(account: Account, kind: RuleKind, request: StartRequest, protocol: 'soap' | 'json'): SignalRule {
    if (!account.settings.mayChangeSignalRules) throw new ParlayxFault('POL0001', [`account '${account.name}' may not change its signal rules`]);
    const endpoint = request.reference.endpoint;
    if (!/^https?:\/\//i.test(endpoint)) throw new ParlayxFault('SVC0002', [`reference/endpoint: '${endpoint}' is not an http or https URL`]);
    // Subscriptions are for parties a call can reach: tel: and sip: addresses.
    if (request.addresses.some((a) => !/^(tel|sips?):/i.test(a) || normaliseAddress(a) === '')) throw new ParlayxFault('SVC0004', ['addresses']);
    const addresses = canonical(request.addresses.map(normaliseAddress));
    for (const address of request.addresses) {
      if (!ownsAddress(account, address)) throw new ParlayxFault('POL0001', [`address '${address}' does not belong to account '${account.name}'`]);
    }
    const criteria = canonical(request.criteria.length ? request.criteria : CALL_CRITERIA);
    const existing = this.accounts.rules({ kind });
    if (existing.some((r) => r.account === account.name && r.correlator === request.reference.correlator)) {
      throw new ParlayxFault('SVC0005', [request.reference.correlator, 'reference/correlator']);
    }
    // Two notification rules of different accounts may watch the same events; only one application may direct a call.
    for (const rule of existing) {
      if (kind === 'notification' && rule.account !== account.name) continue;
      const sharedAddress = rule.addresses.find((a) => addresses.includes(a));
      const sharedCriterion = rule.criteria.find((c) => criteria.includes(c));
      if (sharedAddress && sharedCriterion) throw new ParlayxFault('SVC0008', [`${sharedCriterion} for ${sharedAddress}`]);
    }
    return this.accounts.addRule({
      account: account.name, kind, addresses, criteria, endpoint, protocol,
      interfaceName: request.reference.interfaceName, correlator: request.reference.correlator,
    });
  }

  /** stop…Notification: the addresses and criteria identify the rule (the correlator does not). */
  stop(account: Account, kind: RuleKind, request: StopRequest): SignalRule {
    if (!account.settings.mayChangeSignalRules) throw new ParlayxFault('POL0001', [`account '${account.name}' may not change its signal rules`]);
    const addresses = canonical(request.addresses.map(normaliseAddress));
    const criteria = canonical(request.criteria.length ? request.criteria : CALL_CRITERIA);
    const rule = this.accounts.rules({ account: account.name, kind }).find((r) =>
      r.addresses.join('\n') === addresses.join('\n') && r.criteria.join('\n') === criteria.join('\n'));
    if (!rule) throw new ParlayxFault('SVC0002', [`addresses/criteria: account '${account.name}' has no ${kind} rule for ${addresses.join(', ')} with ${criteria.join(', ')}`]);
    this.accounts.removeRule(rule.id);
    return rule;
  }

  /**
   * A call event: every matching notification rule is told (without waiting), the matching
   * direction rule decides. Never throws: a failing application gets the documented default.
   */
  async callEvent(report: CallEventReport): Promise<CallAction> {
    const address = normaliseAddress(report.calledParty);
    const matches = (r: SignalRule) => r.addresses.includes(address) && r.criteria.includes(report.criterion);
    const message = { criterion: report.criterion, callingParty: report.callingParty, calledParty: report.calledParty };
    for (const rule of this.accounts.rules({ kind: 'notification' }).filter(matches)) {
      const delivery = this.client.notify(rule, message).catch((err: Error) => this.options.onDeliveryFailure?.(rule, err));
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery));
    }
    const fallback = this.options.defaultAction ?? 'Continue';
    const rule = this.accounts.rules({ kind: 'direction' }).find(matches);
    // Nobody directs this event: the call goes on (the default Action is for applications that fail).
    if (!rule) return { actionToPerform: 'Continue', routingAddresses: [], decidedBy: 'no direction rule' };
    try {
      const action = await this.client.handle(rule, message);
      const routes = action.routingAddress ? [action.routingAddress] : [];
      if ((action.actionToPerform === 'Route' || action.actionToPerform === 'Fork') && routes.length === 0) {
        return { actionToPerform: fallback, routingAddresses: [], decidedBy: `default: ${rule.endpoint} chose ${action.actionToPerform} without a routingAddress` };
      }
      return { actionToPerform: action.actionToPerform, routingAddresses: routes, decidedBy: rule.endpoint };
    } catch (err) {
      this.options.onDeliveryFailure?.(rule, err as Error);
      return { actionToPerform: fallback, routingAddresses: [], decidedBy: `default: ${(err as Error).message}` };
    }
  }

  /** Notifications still being delivered (the server waits for them when it closes). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
