import type { ActionDefinition, CodeRef, ContentDecl, ExecBlock, ParamDecl } from '../model/chart.js';
import { EvaluationError } from '../datamodel/datamodel.js';
import { attrNode, childElements, type XmlElement } from '../parse/xml-tree.js';
import { parseDuration } from './duration.js';
import { evaluateContent, evaluateParams, pairsToObject } from './values.js';

export const SCXML_NS = 'http://www.w3.org/2005/07/scxml';
export const SCXML_EVENT_PROCESSOR = 'http://www.w3.org/TR/scxml/#SCXMLEventProcessor';

/* <raise event="…"/> (W3C 4.2) */
const raise: ActionDefinition<{ event: string }> = {
  namespace: SCXML_NS, name: 'raise',
  compile(el, ctx) {
    ctx.allowOnly(el, ['event']);
    return { event: ctx.attr(el, 'event', true) ?? '' };
  },
  execute(c, ctx) { ctx.raise(c.event); },
};

/* <if cond>…<elseif cond/>…<else/>…</if> (W3C 4.3–4.5) */
interface IfBranch { cond: CodeRef | null; body: ExecBlock }
const ifAction: ActionDefinition<IfBranch[]> = {
  namespace: SCXML_NS, name: 'if',
  compile(el, ctx) {
    ctx.allowOnly(el, ['cond']);
    const branches: { cond: CodeRef | null; body: XmlElement[] }[] = [{ cond: ctx.codeAttr(el, 'cond', 'cond', true), body: [] }];
    let sawElse = false;
    for (const child of childElements(el)) {
      const isScxml = child.uri === SCXML_NS;
      if (isScxml && child.local === 'elseif') {
        if (sawElse) ctx.sink.error('ORX0103', child.loc, '<elseif> may not follow <else>');
        ctx.allowOnly(child, ['cond']);
        branches.push({ cond: ctx.codeAttr(child, 'cond', 'cond', true), body: [] });
      } else if (isScxml && child.local === 'else') {
        if (sawElse) ctx.sink.error('ORX0112', child.loc, '<if> may have only one <else>');
        ctx.allowOnly(child, []);
        sawElse = true;
        branches.push({ cond: null, body: [] });
      } else {
        branches[branches.length - 1].body.push(child);
      }
    }
    return branches.map((b) => ({ cond: b.cond, body: ctx.block(b.body) }));
  },
  execute(branches, ctx) {
    for (const b of branches) {
      if (b.cond === null || ctx.datamodel.test(b.cond)) { ctx.run(b.body); return; }
    }
  },
};

/* <foreach array item index> (W3C 4.6): iterates over a shallow copy. */
interface Foreach { array: CodeRef; item: CodeRef; index: CodeRef | null; body: ExecBlock }
const foreach: ActionDefinition<Foreach> = {
  namespace: SCXML_NS, name: 'foreach',
  compile(el, ctx) {
    ctx.allowOnly(el, ['array', 'item', 'index']);
    return {
      array: ctx.codeAttr(el, 'array', 'expr', true)!,
      item: ctx.codeAttr(el, 'item', 'location', true)!,
      index: ctx.codeAttr(el, 'index', 'location'),
      body: ctx.block(childElements(el)),
    };
  },
  execute(c, ctx) {
    const dm = ctx.datamodel;
    const snapshot = dm.foreachSnapshot(c.array);
    try {
      for (const loc of c.index ? [c.item, c.index] : [c.item]) {
        const name = loc.source.trim();
        if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new EvaluationError(`'${loc.source}' is not a legal variable name`, loc);
        if (!dm.isDeclared(name)) dm.declare(name, undefined);
      }
      for (let i = 0; i < snapshot.length; i++) {
        snapshot.assignItem(i, c.item);
        if (c.index) dm.assign(c.index, i);
        ctx.run(c.body);
      }
    } finally {
      snapshot.release();
    }
  },
};

/* <log label expr/> (W3C 4.7) */
const log: ActionDefinition<{ label: string | undefined; expr: CodeRef | null }> = {
  namespace: SCXML_NS, name: 'log',
  compile(el, ctx) {
    ctx.allowOnly(el, ['label', 'expr']);
    // An empty expr logs just the label.
    const expr = ctx.attr(el, 'expr')?.trim() ? ctx.codeAttr(el, 'expr', 'expr') : null;
    return { label: ctx.attr(el, 'label'), expr };
  },
  execute(c, ctx, node) {
    ctx.log(c.label, c.expr ? ctx.datamodel.evaluate(c.expr) : undefined, node);
  },
};

/* <assign location expr|content/> (W3C 5.4) */
const assign: ActionDefinition<{ location: CodeRef; expr: CodeRef | null; content: ContentDecl | null }> = {
  namespace: SCXML_NS, name: 'assign',
  compile(el, ctx) {
    ctx.allowOnly(el, ['location', 'expr']);
    const location = ctx.codeAttr(el, 'location', 'location', true)!;
    const hasChildren = el.children.some((c) => c.kind === 'element' || c.text.trim() !== '');
    if (ctx.attr(el, 'expr') !== undefined && hasChildren) ctx.sink.error('ORX0107', el.loc, '<assign> may have an expr attribute or content, not both');
    const expr = ctx.codeAttr(el, 'expr', 'expr');
    const inline = hasChildren ? ctx.inlineValue(el) : null;
    return { location, expr, content: inline ? { expr: null, inline, loc: el.loc } : null };
  },
  execute(c, ctx) {
    if (c.expr) ctx.datamodel.assignExpression(c.location, c.expr);
    else ctx.datamodel.assign(c.location, c.content ? evaluateContent(c.content, ctx.datamodel) : undefined);
  },
};

/* <script src|text/> (W3C 5.8); src is fetched at load, and a failure rejects the document. */
const script: ActionDefinition<{ code: CodeRef | null }> = {
  namespace: SCXML_NS, name: 'script',
  compile(el, ctx) {
    ctx.allowOnly(el, ['src']);
    const src = ctx.attr(el, 'src');
    const inline = el.children.map((c) => (c.kind === 'text' ? c.text : '')).join('');
    if (src !== undefined) {
      if (inline.trim()) ctx.sink.error('ORX0107', el.loc, '<script> may have a src attribute or content, not both');
      const text = ctx.readResource(src, attrNode(el, 'src')!.loc);
      return { code: text === null ? null : ctx.code('script', text, el.loc) };
    }
    const firstText = el.children.find((c) => c.kind === 'text');
    return { code: ctx.code('script', inline, firstText?.loc ?? el.loc) };
  },
  execute(c, ctx) { if (c.code) ctx.datamodel.runScript(c.code); },
};

/* <send> (W3C 6.2) */
interface Send {
  event: string | undefined; eventexpr: CodeRef | null;
  target: string | undefined; targetexpr: CodeRef | null;
  type: string | undefined; typeexpr: CodeRef | null;
  id: string | undefined; idlocation: CodeRef | null;
  delayMs: number | undefined; delayexpr: CodeRef | null;
  namelist: CodeRef[]; params: ParamDecl[]; content: ContentDecl | null;
}
const send: ActionDefinition<Send> = {
  namespace: SCXML_NS, name: 'send',
  compile(el, ctx) {
    ctx.allowOnly(el, ['event', 'eventexpr', 'target', 'targetexpr', 'type', 'typeexpr', 'id', 'idlocation', 'delay', 'delayexpr', 'namelist']);
    ctx.exclusive(el, ['event', 'eventexpr']);
    ctx.exclusive(el, ['target', 'targetexpr']);
    ctx.exclusive(el, ['type', 'typeexpr']);
    ctx.exclusive(el, ['id', 'idlocation']);
    ctx.exclusive(el, ['delay', 'delayexpr']);
    const content = ctx.content(el);
    const params = ctx.params(el);
    const namelistText = ctx.attr(el, 'namelist');
    if (content && (params.length || namelistText !== undefined)) {
      ctx.sink.error('ORX0107', el.loc, '<send> may not have <content> together with namelist or <param>');
    }
    const delayText = ctx.attr(el, 'delay');
    let delayMs: number | undefined;
    if (delayText !== undefined) {
      const ms = parseDuration(delayText);
      if (ms === null) ctx.sink.error('ORX0108', attrNode(el, 'delay')!.loc, `delay '${delayText}' is not a CSS2 time value (e.g. "5s", "200ms", ".5s")`);
      delayMs = ms ?? 0;
    }
    const target = ctx.attr(el, 'target');
    if (delayText !== undefined && target === '#_internal') ctx.sink.error('ORX0107', el.loc, 'a <send> to #_internal may not have a delay');
    return {
      event: ctx.attr(el, 'event'), eventexpr: ctx.codeAttr(el, 'eventexpr', 'expr'),
      target, targetexpr: ctx.codeAttr(el, 'targetexpr', 'expr'),
      type: ctx.attr(el, 'type'), typeexpr: ctx.codeAttr(el, 'typeexpr', 'expr'),
      id: ctx.attr(el, 'id'), idlocation: ctx.codeAttr(el, 'idlocation', 'location'),
      delayMs, delayexpr: ctx.codeAttr(el, 'delayexpr', 'expr'),
      namelist: (namelistText ?? '').split(/\s+/).filter(Boolean).map((n) => ctx.code('expr', n, el.loc)),
      params, content,
    };
  },
  execute(c, ctx) {
    const dm = ctx.datamodel;
    const sendid = c.id ?? ctx.uniqueId('send');
    if (c.idlocation) dm.assign(c.idlocation, sendid);
    const event = c.eventexpr ? String(dm.evaluate(c.eventexpr)) : c.event;
    const target = c.targetexpr ? String(dm.evaluate(c.targetexpr)) : c.target;
    const type = c.typeexpr ? String(dm.evaluate(c.typeexpr)) : c.type ?? SCXML_EVENT_PROCESSOR;
    let delayMs = c.delayMs ?? 0;
    if (c.delayexpr) {
      const raw = dm.evaluate(c.delayexpr);
      const ms = typeof raw === 'number' ? raw : parseDuration(String(raw));
      if (ms === null) throw new EvaluationError(`delayexpr gave '${String(raw)}', not a CSS2 time value`, c.delayexpr);
      delayMs = ms;
    }
    let data: unknown;
    let pairs: [string, unknown][] = [];
    if (c.content) data = evaluateContent(c.content, dm);
    else if (c.namelist.length || c.params.length) {
      pairs = c.namelist.map((ref): [string, unknown] => [ref.source, dm.evaluate(ref)]);
      pairs.push(...evaluateParams(c.params, dm));
      data = pairsToObject(pairs);
    }
    ctx.send({ event, target, type, sendid, anonymous: c.id === undefined && !c.idlocation, delayMs, data, pairs });
  },
};

/* <cancel sendid|sendidexpr/> (W3C 6.3) */
const cancel: ActionDefinition<{ sendid: string | undefined; sendidexpr: CodeRef | null }> = {
  namespace: SCXML_NS, name: 'cancel',
  compile(el, ctx) {
    ctx.allowOnly(el, ['sendid', 'sendidexpr']);
    ctx.exclusive(el, ['sendid', 'sendidexpr'], true);
    return { sendid: ctx.attr(el, 'sendid'), sendidexpr: ctx.codeAttr(el, 'sendidexpr', 'expr') };
  },
  execute(c, ctx) {
    ctx.cancel(c.sendidexpr ? String(ctx.datamodel.evaluate(c.sendidexpr)) : c.sendid!);
  },
};

export const CORE_ACTIONS: readonly ActionDefinition<any>[] = [raise, ifAction, foreach, log, assign, script, send, cancel];
