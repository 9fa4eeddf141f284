import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { SourceLocation } from '../model/location.js';
import type { DiagnosticSink } from '../model/diagnostics.js';

export interface XmlAttribute {
  readonly name: string;
  readonly local: string;
  readonly uri: string;
  readonly value: string;
  readonly loc: SourceLocation;
}

export interface XmlElement {
  readonly kind: 'element';
  readonly name: string;
  readonly local: string;
  /** Namespace URI: elements are matched by it, never by prefix. */
  readonly uri: string;
  readonly prefix: string;
  /** Namespace declarations in scope (prefix → URI), kept so content can be re-serialised. */
  readonly nsInScope: Readonly<Record<string, string>>;
  readonly attributes: readonly XmlAttribute[];
  readonly children: XmlNode[];
  readonly loc: SourceLocation;
}

export interface XmlText {
  readonly kind: 'text';
  readonly text: string;
  readonly cdata: boolean;
  readonly loc: SourceLocation;
}

export type XmlNode = XmlElement | XmlText;

export const MAX_XML_DEPTH = 1000;

/**
 * Parses a document into a tree with a location on every node. Never throws: malformed XML
 * becomes ORX0002 diagnostics at the position saxes reports, and the result is null.
 */
export function parseXmlTree(text: string, file: string, sink: DiagnosticSink): XmlElement | null {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: { el: XmlElement; children: XmlNode[] }[] = [];
  let root: XmlElement | null = null;
  let failed = false;
  let tagStart: SourceLocation = { file, line: 1, column: 1 };
  const pendingAttrs: XmlAttribute[] = [];

  const here = (): SourceLocation => ({ file, line: parser.line, column: Math.max(1, parser.column) });

  parser.on('error', (err) => {
    failed = true;
    // saxes prefixes its message with "line:column: "; keep only the text.
    const message = err.message.replace(/^(?:[^:]*:)?\d+:\d+:\s*/, '');
    sink.error('ORX0002', here(), `malformed XML: ${message}`);
  });
  parser.on('doctype', () => {
    // DTDs can declare entities (billion laughs, external entities): refuse them outright.
    failed = true;
    sink.error('ORX0002', here(), 'malformed XML: DOCTYPE declarations are not allowed in SCXML documents');
  });
  parser.on('opentagstart', (tag) => {
    tagStart = { file, line: parser.line, column: Math.max(1, parser.column - tag.name.length - 1) };
    pendingAttrs.length = 0;
  });
  parser.on('attribute', (attr) => {
    const width = attr.name.length + attr.value.length + 3;
    pendingAttrs.push({
      name: attr.name,
      local: (attr as { local?: string }).local ?? attr.name,
      uri: (attr as { uri?: string }).uri ?? '',
      value: attr.value,
      loc: { file, line: parser.line, column: Math.max(1, parser.column - width + 1) },
    });
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (stack.length >= MAX_XML_DEPTH) {
      if (!failed) sink.error('ORX0002', tagStart, `malformed XML: elements nested deeper than ${MAX_XML_DEPTH} levels`);
      failed = true;
    }
    const parentNs = stack.length ? stack[stack.length - 1].el.nsInScope : {};
    const declared = tag.ns ?? {};
    const nsInScope = Object.keys(declared).length ? { ...parentNs, ...declared } : parentNs;
    // xmlns attributes are namespace declarations, not attributes of the element.
    const attributes = pendingAttrs.filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'))
      .map((a) => {
        const info = tag.attributes[a.name] as { uri?: string; local?: string } | undefined;
        return { ...a, uri: info?.uri ?? '', local: info?.local ?? a.local };
      });
    const children: XmlNode[] = [];
    const el: XmlElement = {
      kind: 'element', name: tag.name, local: tag.local, uri: tag.uri, prefix: tag.prefix,
      nsInScope, attributes, children, loc: tagStart,
    };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push({ el, children });
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (t) => {
    if (stack.length) stack[stack.length - 1].children.push({ kind: 'text', text: t, cdata: false, loc: here() });
  });
  parser.on('cdata', (t) => {
    if (stack.length) stack[stack.length - 1].children.push({ kind: 'text', text: t, cdata: true, loc: here() });
  });
  try {
    parser.write(text).close();
  } catch (err) {
    failed = true;
    sink.error('ORX0002', here(), `malformed XML: ${(err as Error).message}`);
  }
  if (!failed && !root) {
    sink.error('ORX0002', here(), 'malformed XML: the document has no root element');
    return null;
  }
  return failed ? null : root;
}

export function attr(el: XmlElement, name: string): string | undefined {
  for (const a of el.attributes) if (a.name === name && a.uri === '') return a.value;
  return undefined;
}

export function attrNode(el: XmlElement, name: string): XmlAttribute | undefined {
  for (const a of el.attributes) if (a.name === name && a.uri === '') return a;
  return undefined;
}

export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.kind === 'element');
}

export function textContent(node: XmlNode): string {
  return node.kind === 'text' ? node.text : node.children.map(textContent).join('');
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;');

/** Serialises a subtree, declaring the namespaces it uses, so it can become a standalone DOM. */
export function serializeXml(node: XmlNode, inheritedNs: Readonly<Record<string, string>> = {}): string {
  if (node.kind === 'text') return node.cdata ? `<![CDATA[${node.text}]]>` : escapeText(node.text);
  let decls = '';
  for (const [prefix, uri] of Object.entries(node.nsInScope)) {
    if (inheritedNs[prefix] !== uri && prefix !== 'xml') decls += prefix ? ` xmlns:${prefix}="${escapeAttr(uri)}"` : ` xmlns="${escapeAttr(uri)}"`;
  }
  const attrs = node.attributes.map((a) => ` ${a.name}="${escapeAttr(a.value)}"`).join('');
  const inner = node.children.map((c) => serializeXml(c, node.nsInScope)).join('');
  return `<${node.name}${decls}${attrs}>${inner}</${node.name}>`;
}
