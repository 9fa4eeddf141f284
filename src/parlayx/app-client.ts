/**
 * Calls to the applications' endpoints (we are the client): notify… and handle… operations, as
 * SOAP from our own WSDLs (call_notification.wsdl, call_direction.wsdl), or as JSON for rules made
 * through the JSON mirror (OMA ParlayREST shapes: a callEventNotification body, an `action` answer).
 */
import { childElements } from '../parse/xml-tree.js';
import { readEnvelope, writeEnvelope } from './soap.js';
import { decodeJson, decodeXml, versionless } from './xsd.js';
import type { ParlayxCatalog } from './wsdl.js';
import type { CallCriterion, SignalRule } from './accounts.js';

export interface CallEventMessage {
  readonly criterion: CallCriterion;
  readonly callingParty: string;
  readonly calledParty: string;
}

/** What an application answered to a handle… request. */
export interface ApplicationAction {
  readonly actionToPerform: 'Route' | 'Continue' | 'EndCall' | 'Fork';
  readonly routingAddress?: string;
}

export class ApplicationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApplicationError';
  }
}

export class ApplicationClient {
  constructor(private readonly catalog: ParlayxCatalog, private readonly timeoutMs: number) {}

  /** notify<Criterion>: the answer carries nothing, so only failures matter. */
  async notify(rule: SignalRule, event: CallEventMessage): Promise<void> {
    await this.call(rule, event, 'call_notification', `notify${event.criterion}`);
  }

  /** handle<Criterion>: the Action the application chose. */
  async handle(rule: SignalRule, event: CallEventMessage): Promise<ApplicationAction> {
    const result = await this.call(rule, event, 'call_direction', `handle${event.criterion}`);
    return result as ApplicationAction;
  }

  private async call(rule: SignalRule, event: CallEventMessage, service: string, name: string): Promise<unknown> {
    const op = this.catalog.operation(service, name);
    if (!op?.output) throw new Error(`internal: ${service}.${name} is not in our WSDLs`);
    const resultField = op.output.type.kind === 'complex' ? op.output.type.fields.find((f) => f.name === 'result') : undefined;
    const params = { correlator: rule.correlator, callingParty: event.callingParty, calledParty: event.calledParty };
    if (rule.protocol === 'json') {
      const body = await this.post(rule.endpoint, 'application/json', JSON.stringify({
        callEventNotification: {
          callingParticipant: event.callingParty, calledParticipant: event.calledParty, callEvent: event.criterion,
          notificationType: service === 'call_direction' ? 'CallDirection' : 'CallEvent', callbackData: rule.correlator,
        },
      }));
      if (!resultField) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new ApplicationError(`${rule.endpoint} answered ${name} with something that is not JSON`);
      }
      const action = (parsed as { action?: unknown } | null)?.action;
      if (action === undefined) throw new ApplicationError(`${rule.endpoint} answered ${name} without an "action"`);
      return decodeJson(action, resultField.type, 'action');
    }
    const text = await this.post(rule.endpoint, 'text/xml; charset=utf-8', writeEnvelope(op.input, params));
    const answer = readEnvelope(text, rule.endpoint);
    if (answer.local === 'Fault') {
      const detail = childElements(answer).find((c) => c.local === 'faultstring');
      throw new ApplicationError(`${rule.endpoint} answered ${name} with a fault: ${detail ? detail.children.map((c) => (c.kind === 'text' ? c.text : '')).join('') : 'no faultstring'}`);
    }
    if (answer.local !== op.output.name || versionless(answer.uri) !== versionless(op.output.ns)) {
      throw new ApplicationError(`${rule.endpoint} answered ${name} with {${answer.uri}}${answer.local}, expected {${op.output.ns}}${op.output.name}`);
    }
    const decoded = decodeXml(answer, op.output.type, answer.local) as Record<string, unknown>;
    return resultField ? decoded.result : undefined;
  }

  private async post(url: string, contentType: string, body: string): Promise<string> {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, soapaction: '""' }, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as Error;
      throw new ApplicationError(e.name === 'TimeoutError' ? `${url} did not answer within ${this.timeoutMs} ms` : `${url} cannot be reached: ${e.message}`);
    }
    const text = await res.text();
    // A SOAP fault comes with status 500 and is read as a fault; any other failure is the endpoint's.
    if (!res.ok && !(res.status === 500 && text.includes('Fault'))) throw new ApplicationError(`${url} answered HTTP ${res.status}`);
    return text;
  }
}
