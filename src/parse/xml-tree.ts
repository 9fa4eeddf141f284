import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { SourceLocation } from '../model/location.js';
import type { DiagnosticSink } from '../model/diagnostics.js';

export interface XmlAttribute {
  readonly name: string;
  readonly local: string;
  readonly uri: string;
  readonly value: string;
  /** The first character of the attribute's name. */
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
  /** The '<' of the start tag. */
  readonly loc: SourceLocation;
}

export interface XmlText {
  readonly kind: 'text';
  readonly text: string;
  readonly cdata: boolean;
  /** Where the text begins (for CDATA, its content): line 1 of a script's source is this line. */
  readonly loc: SourceLocation;
}

export type XmlNode = XmlElement | XmlText;

/** Deeper documents are refused: no real chart nests this far, and the compiler recurses per level. */
export const MAX_XML_DEPTH = 256;

/** Thrown from a saxes handler to stop at the first fatal error: what follows it is recovery noise. */
const STOP = Symbol('stop');

/**
 * Maps string offsets to 1-based line and column. Columns count Unicode code points (a tab is
 * one column), as saxes does; CR LF and a lone CR end a line, as in XML. Offsets mostly come
 * in increasing order, so a column is counted on from the previous one (long one-line charts).
 */
function locator(text: string, file: string): (offset: number) => SourceLocation {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) lineStarts.push(i + 1);
  }
  if (text.charCodeAt(0) === 0xfeff) lineStarts[0] = 1; // a byte order mark is not a column
  let last = { line: 0, offset: lineStarts[0], column: 1 };
  return (offset) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    offset = Math.max(offset, lineStarts[lo]);
    let { offset: i, column } = last.line === lo && last.offset <= offset ? last : { offset: lineStarts[lo], column: 1 };
    for (; i < offset; i++) {
      const c = text.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) column++; // the low half of a surrogate pair is not a column
    }
    last = { line: lo, offset, column };
    return { file, line: lo + 1, column };
  };
}

/**
 * Parses a document into a tree with a location on every node. Never throws: malformed XML
 * becomes one ORX0002 diagnostic (the first fatal error; the parser stops there) and the result
 * is null. Locations come from offsets into `text`, so entities, multi-line start tags and
 * attribute values do not shift them.
 */
export function parseXmlTree(text: string, file: string, sink: DiagnosticSink): XmlElement | null {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const at = locator(text, file);
  const stack: { el: XmlElement; children: XmlNode[] }[] = [];
  let root: XmlElement | null = null;
  let failed = false;
  let tagStart = 0; // offset of the '<' of the start tag being read
  let tagLoc: SourceLocation = { file, line: 1, column: 1 };
  let attrScan = 0; // where the next attribute name of that tag may start
  let markupEnd = 0; // offset just after the last markup (tag, comment, PI, CDATA, declaration)
  let lastClosed: XmlElement | null = null;
  const pendingAttrs: XmlAttribute[] = [];

  const here = () => at(Math.max(0, parser.position - 1)); // the character saxes read last
  const firstNonSpace = (from: number) => {
    const m = /[^ \t\r\n]/g; // XML whitespace only
    m.lastIndex = from;
    return m.exec(text)?.index ?? from;
  };
  const fail = (loc: SourceLocation, message: string): never => {
    failed = true;
    sink.error('ORX0002', loc, `malformed XML: ${message}`);
    throw STOP;
  };

  parser.on('error', (err) => {
    // saxes prefixes its message with "line:column: "; keep only the text.
    const message = err.message.replace(/^(?:[^:]*:)?\d+:\d+:\s*/, '');
    const endTag = text.lastIndexOf('</', parser.position - 1);
    if (message === 'unexpected close tag.' && lastClosed) {
      // saxes has just implicitly closed `lastClosed` to match this end tag.
      const name = text.slice(endTag + 2, parser.position - 1).trim();
      fail(at(endTag), `end tag </${name}> does not match the start tag <${lastClosed.name}> at line ${lastClosed.loc.line}`);
    }
    if (message.startsWith('unmatched closing tag')) fail(at(endTag), message);
    if (message.startsWith('unclosed tag') && stack.length) fail(stack[stack.length - 1].el.loc, `<${stack[stack.length - 1].el.name}> is never closed`);
    if (message.startsWith('text data outside of root node')) fail(at(firstNonSpace(markupEnd)), message);
    if (message.startsWith('documents may contain only one root') || message.startsWith('unbound namespace prefix')) fail(at(tagStart), message);
    const duplicate = /^duplicate attribute: (.*)\.$/.exec(message);
    if (duplicate) fail([...pendingAttrs].reverse().find((a) => a.name === duplicate[1])?.loc ?? at(tagStart), message);
    if (message === 'undefined entity.') {
      const amp = text.lastIndexOf('&', parser.position - 1);
      fail(at(amp), `undefined entity ${text.slice(amp, parser.position)} (only &lt; &gt; &amp; &quot; &apos; and character references exist without a DTD)`);
    }
    if (message === 'disallowed character.' && text[parser.position - 1] === '<') {
      // saxes reads a '<' as part of an attribute value only when a closing quote is missing.
      fail(here(), "'<' is not allowed in an attribute value (is a closing quote missing?)");
    }
    fail(here(), message);
  });
  parser.on('doctype', () => {
    // DTDs can declare entities (billion laughs, external entities): refuse them outright.
    fail(at(text.indexOf('<!DOCTYPE', markupEnd)), 'DOCTYPE declarations are not allowed (a DTD could declare entities or fetch files)');
  });
  const endMarkup = () => { markupEnd = parser.position; };
  parser.on('xmldecl', endMarkup);
  parser.on('comment', endMarkup);
  parser.on('processinginstruction', endMarkup);
  parser.on('opentagstart', (tag) => {
    // Called once the name has been read: the '<' is the last one before it.
    tagStart = text.lastIndexOf('<', parser.position - 1);
    tagLoc = at(tagStart);
    attrScan = tagStart + 1 + tag.name.length;
    pendingAttrs.length = 0;
  });
  parser.on('attribute', (attr) => {
    // Called just after the closing quote; the name is the first thing after the previous attribute.
    const nameStart = firstNonSpace(attrScan);
    attrScan = parser.position;
    pendingAttrs.push({
      name: attr.name,
      local: (attr as { local?: string }).local ?? attr.name,
      uri: (attr as { uri?: string }).uri ?? '',
      value: attr.value,
      loc: at(nameStart),
    });
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    endMarkup();
    if (stack.length >= MAX_XML_DEPTH) fail(tagLoc, `elements nested deeper than ${MAX_XML_DEPTH} levels`);
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
      nsInScope, attributes, children, loc: tagLoc,
    };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push({ el, children });
  });
  parser.on('closetag', () => {
    endMarkup();
    lastClosed = stack.pop()?.el ?? null;
  });
  parser.on('text', (t) => {
    // Emitted at the next '<'; the text began where the previous markup ended.
    if (stack.length) stack[stack.length - 1].children.push({ kind: 'text', text: t, cdata: false, loc: at(markupEnd) });
  });
  parser.on('cdata', (t) => {
    const start = text.indexOf('<![CDATA[', markupEnd) + '<![CDATA['.length;
    endMarkup();
    if (stack.length) stack[stack.length - 1].children.push({ kind: 'text', text: t, cdata: true, loc: at(start) });
  });
  try {
    parser.write(text).close();
  } catch (err) {
    if (err !== STOP) {
      failed = true;
      sink.error('ORX0002', here(), `malformed XML: ${(err as Error).message}`);
    }
  }
  if (!failed && !root) {
    sink.error('ORX0002', here(), 'malformed XML: the document has no root element');
    return null;
  }
  return failed ? null : root;
}

/** Where the first non-whitespace character of a text node is (for "text not allowed" reports). */
export function firstContentLoc(node: XmlText): SourceLocation {
  let { line, column } = node.loc;
  for (const ch of node.text) {
    if (ch === '\n') { line++; column = 1; } else if (ch === ' ' || ch === '\t' || ch === '\r') column++; else break;
  }
  return { file: node.loc.file, line, column };
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
