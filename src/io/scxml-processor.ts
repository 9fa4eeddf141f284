import type { SendRequest } from '../exec/context.js';
import { EvaluationError } from '../datamodel/datamodel.js';
import { externalEvent } from '../model/event.js';
import type { EventIOProcessor } from '../runtime/io-processor.js';
import type { Session } from '../runtime/session.js';
import { SCXML_EVENT_PROCESSOR } from '../exec/core-actions.js';
import { formEncode } from './form-encoding.js';

/**
 * The SCXML Event I/O Processor (W3C C.1): between sessions of one engine. Targets: none (the
 * sender's external queue), #_internal, #_parent, #_scxml_<sessionid>, #_<invokeid>.
 */
export function createScxmlProcessor(): EventIOProcessor {
  return {
    type: SCXML_EVENT_PROCESSOR,
    aliases: ['scxml'],
    location: (session) => `#_scxml_${session.id}`,
    send(from: Session, request: SendRequest) {
      const { target } = request;
      if (target === '#_internal') {
        from.state.internalQueue.push({
          name: request.event ?? '', type: 'internal', sendid: request.anonymous ? undefined : request.sendid,
          origin: undefined, origintype: undefined, invokeid: undefined, data: from.dm.exportValue(request.data),
        });
        return;
      }
      const deliverTo = (to: Session | { enqueue: Session['enqueue'] } | undefined, invokeid?: string) => {
        if (!to) {
          from.raisePlatformError('error.communication', `send target '${target}' cannot be reached`, request.sendid);
          return;
        }
        const event = externalEvent(request.event ?? '', from.dm.exportValue(request.data), {
          sendid: request.anonymous ? undefined : request.sendid,
          origin: `#_scxml_${from.id}`,
          origintype: SCXML_EVENT_PROCESSOR,
          invokeid,
          raw: formEncode(request.event, request.pairs),
        });
        from.deliverInOrder(() => to.enqueue(event));
      };
      if (target === undefined || target === '') return deliverTo(from);
      if (target === '#_parent') return deliverTo(from.parent?.session, from.parent?.invokeid);
      if (target.startsWith('#_scxml_')) return deliverTo(from.engine.session(target.slice(8)));
      if (target.startsWith('#_')) {
        const invocation = from.invocation(target.slice(2));
        return deliverTo(invocation && { enqueue: (e) => invocation.deliver(e) });
      }
      throw new EvaluationError(`'${target}' is not a valid target for the SCXML event processor (use #_internal, #_parent, #_scxml_<sessionid> or #_<invokeid>)`);
    },
  };
}
