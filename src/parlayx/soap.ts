/**
 * SOAP 1.1 envelopes, document/literal wrapped: one element in the Body, named after the
 * operation. Parsing goes through the engine's XML reader (namespace-aware, located, no DTDs, so
 * no entity expansion and nothing fetched).
 */
import { childElements, parseXmlTree, type XmlElement } from '../parse/xml-tree.js';
import { DiagnosticSink } from '../model/diagnostics.js';
import { encodeXml, type XsdElement } from './xsd.js';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

/** A request that is not a usable SOAP 1.1 envelope: answered with a SOAP Client fault (no ParlayX detail). */
export class EnvelopeError extends Error {
  constructor(message: string, readonly faultcode: 'Client' | 'VersionMismatch' = 'Client') {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** The Body's single element (the operation's wrapper). Header blocks are ignored (none is mustUnderstand-able here). */
export function readEnvelope(text: string, source = 'request'): XmlElement {
  const sink = new DiagnosticSink();
  const root = parseXmlTree(text, source, sink);
  if (!root) {
    const first = sink.items[0];
    throw new EnvelopeError(first ? `malformed XML at line ${first.line}, column ${first.column}: ${first.message}` : 'malformed XML');
  }
  if (root.local === 'Envelope' && root.uri === SOAP12_NS) throw new EnvelopeError('SOAP 1.2 is not supported: send a SOAP 1.1 envelope', 'VersionMismatch');
  if (root.local !== 'Envelope' || root.uri !== SOAP11_NS) throw new EnvelopeError(`expected a SOAP 1.1 Envelope (${SOAP11_NS}), found <${root.name}>${root.uri ? ` in ${root.uri}` : ''}`);
  for (const header of childElements(root).filter((c) => c.local === 'Header' && c.uri === SOAP11_NS)) {
    for (const block of childElements(header)) {
      const mu = block.attributes.find((a) => a.local === 'mustUnderstand' && a.uri === SOAP11_NS);
      if (mu && (mu.value === '1' || mu.value === 'true')) throw new EnvelopeError(`header <${block.name}> is marked mustUnderstand and is not understood`);
    }
  }
  const body = childElements(root).find((c) => c.local === 'Body' && c.uri === SOAP11_NS);
  if (!body) throw new EnvelopeError('the Envelope has no Body');
  const content = childElements(body);
  if (content.length !== 1) throw new EnvelopeError(`the Body must hold exactly one element (the operation), found ${content.length}`);
  return content[0]!;
}

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP11_NS}"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

/** An answer or a request: the wrapper element written from its schema declaration. */
export function writeEnvelope(element: XsdElement, value: unknown, nsFor: (ns: string) => string = (ns) => ns): string {
  return envelope(encodeXml(element.name, element.ns, element.type, value, nsFor));
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A SOAP fault; `detail` is the ServiceException/PolicyException element, already written. */
export function writeFault(faultcode: 'Client' | 'Server' | 'VersionMismatch', faultstring: string, detail = ''): string {
  return envelope(`<soapenv:Fault><faultcode>soapenv:${faultcode}</faultcode><faultstring>${escapeText(faultstring)}</faultstring>${detail ? `<detail>${detail}</detail>` : ''}</soapenv:Fault>`);
}
