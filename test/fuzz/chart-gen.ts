// Random well-formed SCXML charts (ECMAScript datamodel) and random event sequences, for the
// differential test against SCION.
//
// fast-check draws a *raw* tree (kinds, child lists, numeric choices); `buildChart` turns it into a
// legal chart deterministically: ids in document order, references resolved modulo the candidates,
// structural rules enforced (finals never in a parallel, history last and never alone, legal
// multi-target sets). Shrinking works on the raw tree, so counterexamples shrink to small charts.
//
// Termination: SCION has no microstep limit, so every construct that could loop is bounded by a
// budget variable that only grows: eventless transitions, transitions done events can take and
// <raise> spend `k`, <send> spends `q`.
//
// SCION deviations from the W3C Recommendation that the oracle (scion-oracle.ts) cannot correct are
// kept out here by construction (see docs/conformance.md (SCION deviations)): <foreach> bodies never write the
// array they iterate nor an enclosing foreach's index, the array is never empty (D2); no transition
// targets a history state from inside that history's parent (D3); captured event data treats {} as
// no data (D7); no <if> is empty (SCION's compiler crashes on it).

import fc from 'fast-check';

export type Kind = 'scxml' | 'state' | 'parallel' | 'final' | 'history';

export type GAction =
  | { readonly t: 'raise'; readonly event: string; readonly viaSend?: boolean }
  | { readonly t: 'script'; readonly code: string }
  | { readonly t: 'assign'; readonly location: string; readonly expr: string }
  | { readonly t: 'if'; readonly branches: readonly { readonly cond: string; readonly body: readonly GAction[] }[]; readonly otherwise: readonly GAction[] | null }
  | { readonly t: 'foreach'; readonly level: number; readonly array: string; readonly body: readonly GAction[] }
  | { readonly t: 'send'; readonly event: string; readonly delay: string | null; readonly id: string | null; readonly param: boolean; readonly namelist: boolean; readonly exprs: boolean }
  | { readonly t: 'cancel'; readonly sendid: string };

export interface GTransition {
  readonly event: string | null;
  readonly cond: string | null;
  targets: string[];
  readonly type: 'internal' | 'external';
  readonly content: readonly GAction[];
}

export interface GState {
  kind: Kind;
  id: string;
  children: GState[];
  parent: GState | null;
  /** initial attribute (compound states, root) */
  initialAttr: string | null;
  /** <initial> element: its transition's target and content */
  initialElement: { target: string; content: readonly GAction[] } | null;
  transitions: GTransition[];
  onentry: GAction[][];
  onexit: GAction[][];
  historyType: 'shallow' | 'deep' | null;
  historyDefault: { target: string; content: readonly GAction[] } | null;
  donedata: { kind: 'param'; expr: string } | { kind: 'content'; expr: string } | null;
  /** A state-local <data> (initialised at load with early binding, on first entry with late). */
  localData: { id: string; expr: string } | null;
}

export interface GChart {
  readonly root: GState;
  readonly xml: string;
  /** Ids of every state the generator wrote (the comparison ignores engine-generated ids). */
  readonly stateIds: readonly string[];
  /** Every variable the chart declares (compared after each macrostep). */
  readonly variables: readonly string[];
  readonly binding: 'early' | 'late';
}

export type Step =
  | { readonly kind: 'event'; readonly name: string; readonly data?: unknown }
  | { readonly kind: 'advance'; readonly ms: number };

/* ---------- vocabulary ---------- */

export const EVENT_NAMES = ['a', 'b', 'c', 'a.x', 'd'] as const;
/** Descriptors on transitions (null = eventless). */
const DESCRIPTORS = ['a', 'b', 'c', 'a.x', 'a b', 'd', 'a.*', '*', 'done.state', 'done', 'error', 'error.execution'] as const;
/** Descriptors internal events can match without a <raise>: done events, errors. */
const SELF_TRIGGERED = new Set(['*', 'done', 'done.state', 'error', 'error.execution']);
/**
 * Variables the datamodel compares; `k` and `q` are the loop budgets, `itN`/`ixN` the item and
 * index of a foreach nested N deep (a nested foreach never reuses its parent's index: SCION's loop
 * counter *is* the index variable, deviation D2b).
 */
export const VARIABLES: Readonly<Record<string, string>> = {
  v0: '0', v1: '1', v2: '0', arr: '[1, 2, 3]', en: "''", ed: 'null', dd: 'null', k: '0', q: '0',
  it0: 'null', ix0: 'null', it1: 'null', ix1: 'null', it2: 'null', ix2: 'null',
};
const K_LIMIT = 8;
const Q_LIMIT = 6;
const NUM_VARS = ['v0', 'v1', 'v2'] as const;
const NUM_EXPRS = ['v0 + 1', 'v1 * 2 % 97', 'v2 - 1', 'arr.length', 'v0 + v1 + v2', '(v0 * 3 + v1) % 11', '-v1', 'v2 + 5'] as const;
/** Never empty: SCION sets the index of a foreach over an empty array to 0 (deviation D2c). */
const ARR_EXPRS = ['arr.length < 6 ? arr.concat([v0]) : [v1]', 'arr.length > 1 ? arr.slice(1) : [v0]', '[v0, v1]', 'arr.map(function (x) { return x + 1; })'] as const;
const FOREACH_EXPRS = ['v0 + it#', 'v1 + ix#', 'v2 * 2 + it#', 'it#'] as const;
/** The last one fails (error.execution, and the condition counts as false). */
const CONDS = ['v0 > 2', 'v1 % 2 == 0', 'v2 < 0', 'arr.length > 3', 'true', 'false', 'v0 == v1', 'v2 >= v0', 'nope.z > 0'] as const;
/** Executable content that fails: error.execution, and the rest of the block is skipped. */
const FAILING: readonly GAction[] = [
  { t: 'assign', location: 'nope.x', expr: '1' },
  { t: 'assign', location: 'v0', expr: 'nope.y' },
  { t: 'script', code: 'v2 = nope.w;' },
];
const SCRIPTS = ['v1 = (v1 * 7 + 3) % 13;', 'var tmp = v0; v0 = v2; v2 = tmp;', 'v2 = arr.reduce(function (s, x) { return s + x; }, 0) % 17;'] as const;
const DELAYS = [null, null, '50ms', '100ms', '0.2s', '1s'] as const;
export const ADVANCES = [50, 100, 300, 1000] as const;

/* ---------- raw arbitraries ---------- */

interface RawAction {
  readonly t: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly body: readonly RawAction[];
  readonly body2: readonly RawAction[];
}
interface RawTransition {
  readonly ev: number;
  readonly cond: number;
  readonly targets: readonly number[];
  readonly internal: boolean;
  readonly content: readonly RawAction[];
}
interface RawNode {
  readonly kind: number;
  readonly children: readonly RawNode[];
  readonly transitions: readonly RawTransition[];
  readonly onentry: readonly RawAction[];
  readonly onexit: readonly RawAction[];
  readonly init: number;
  readonly initRef: number;
  readonly extra: number;
  readonly initContent: readonly RawAction[];
}

const small = fc.nat({ max: 1000 });

function rawAction(depth: number): fc.Arbitrary<RawAction> {
  const nested = depth > 0 ? fc.array(rawAction(depth - 1), { maxLength: 2 }) : fc.constant([] as RawAction[]);
  return fc.record({ t: fc.nat({ max: 99 }), a: small, b: small, c: small, body: nested, body2: nested });
}
const rawActions = fc.array(rawAction(2), { maxLength: 3 });

const rawTransition: fc.Arbitrary<RawTransition> = fc.record({
  ev: fc.nat({ max: 99 }),
  cond: fc.nat({ max: 99 }),
  targets: fc.array(small, { minLength: 0, maxLength: 2 }),
  internal: fc.boolean(),
  content: rawActions,
});

function rawNode(depth: number): fc.Arbitrary<RawNode> {
  return fc.record({
    kind: fc.nat({ max: 99 }),
    children: depth > 0 ? fc.array(rawNode(depth - 1), { maxLength: 3 }) : fc.constant([] as RawNode[]),
    transitions: fc.array(rawTransition, { maxLength: 3 }),
    onentry: rawActions,
    onexit: rawActions,
    init: fc.nat({ max: 99 }),
    initRef: small,
    extra: small,
    initContent: rawActions,
  });
}

export interface ChartOptions {
  readonly depth?: number;
}

export function chartArbitrary(options: ChartOptions = {}): fc.Arbitrary<GChart> {
  const depth = options.depth ?? 3;
  return fc.record({
    children: fc.array(rawNode(depth), { minLength: 1, maxLength: 3 }),
    init: fc.nat({ max: 99 }),
    initRef: small,
  }).map((raw) => buildChart(raw));
}

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('event' as const), name: fc.constantFrom(...EVENT_NAMES), data: fc.oneof(fc.constant(undefined), fc.nat({ max: 9 }), fc.record({ p: fc.nat({ max: 9 }) })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(...ADVANCES) }) },
);
export function stepsArbitraryOf(maxLength: number): fc.Arbitrary<Step[]> {
  return fc.array(stepArbitrary, { minLength: 1, maxLength });
}
export const stepsArbitrary = stepsArbitraryOf(10);

/* ---------- building a legal chart ---------- */

function newState(kind: Kind, id: string, parent: GState | null): GState {
  return {
    kind, id, children: [], parent, initialAttr: null, initialElement: null, transitions: [], onentry: [], onexit: [],
    historyType: null, historyDefault: null, donedata: null, localData: null,
  };
}

const pick = <T>(xs: readonly T[], n: number): T => xs[n % xs.length];

export function isCompound(s: GState): boolean {
  return (s.kind === 'state' || s.kind === 'scxml') && s.children.some((c) => c.kind !== 'history');
}
export function properAncestors(s: GState): GState[] {
  const out: GState[] = [];
  for (let p = s.parent; p; p = p.parent) out.push(p);
  return out;
}
export function isDescendant(s: GState, of: GState): boolean {
  return properAncestors(s).includes(of);
}
function descendants(s: GState): GState[] {
  const out: GState[] = [];
  const walk = (x: GState) => { for (const c of x.children) { out.push(c); walk(c); } };
  walk(s);
  return out;
}

/** Two targets may go together only in different regions of a parallel state. */
function orthogonal(x: GState, y: GState): boolean {
  if (x === y || isDescendant(x, y) || isDescendant(y, x)) return false;
  const ax = [x, ...properAncestors(x)];
  const lca = properAncestors(y).find((a) => ax.includes(a));
  return lca !== undefined && lca.kind === 'parallel';
}

interface BuildContext {
  counter: number;
  sendIds: string[];
  /** Cancels to resolve once every send id is known. */
  cancels: { raw: number; set: (id: string) => void }[];
}

function buildActions(raw: readonly RawAction[], where: 'transition-event' | 'plain' | 'foreach', ctx: BuildContext, depth = 0, level = 0): GAction[] {
  const out: GAction[] = [];
  for (const r of raw) {
    const t = r.t;
    if (t < 16) {
      // raise, spending the k budget
      // (or a <send> to #_internal, which is the same thing)
      out.push({ t: 'if', branches: [{ cond: `k < ${K_LIMIT}`, body: [{ t: 'assign', location: 'k', expr: 'k + 1' }, { t: 'raise', event: pick(EVENT_NAMES, r.a), viaSend: r.b % 4 === 0 }] }], otherwise: null });
    } else if (t < 40) {
      if (r.c % 11 === 5) out.push(pick(FAILING, r.a));
      else if (r.c % 11 === 7 && where !== 'foreach') out.push({ t: 'script', code: pick(SCRIPTS, r.a) });
      else if (where === 'foreach') out.push({ t: 'assign', location: pick(NUM_VARS, r.a), expr: pick(FOREACH_EXPRS, r.b).replace(/#/g, String(level - 1)) });
      else if (r.c % 4 === 0) out.push({ t: 'assign', location: 'arr', expr: pick(ARR_EXPRS, r.b) });
      else out.push({ t: 'assign', location: pick(NUM_VARS, r.a), expr: pick(NUM_EXPRS, r.b) });
    } else if (t < 50 && where === 'transition-event') {
      // capture the event (only where _event is bound to one of our events or a done event)
      out.push(r.a % 2 === 0
        ? { t: 'assign', location: 'en', expr: '_event.name' }
        // an empty object counts as no data: SCION gives {} for a <send> without data (deviation D7)
        : { t: 'assign', location: 'ed', expr: "_event.data === undefined || _event.data === null || (typeof _event.data === 'object' && Object.keys(_event.data).length === 0) ? null : _event.data" });
    } else if (t < 62) {
      const branches = [{ cond: pick(CONDS, r.a), body: buildActions(r.body, where, ctx, depth + 1, level) }];
      if (r.b % 3 === 0) branches.push({ cond: pick(CONDS, r.b), body: buildActions(r.body2, where, ctx, depth + 1, level) });
      const otherwise = r.c % 2 === 0 ? buildActions(r.body2, where, ctx, depth + 1, level) : null;
      // SCION's compiler crashes (asynchronously, taking the process down) on an <if> without children
      if (branches[0].body.length || branches.length > 1 || otherwise) out.push({ t: 'if', branches, otherwise });
    } else if (t < 72) {
      // never writes arr inside the body: SCION's foreach iterates the live array (deviation D2)
      // (now and then over a number: not iterable, error.execution)
      out.push({ t: 'foreach', level, array: r.a % 9 === 4 ? 'v0' : 'arr', body: buildActions(r.body, 'foreach', ctx, depth + 1, level + 1) });
    } else if (t < 88) {
      const delay = pick(DELAYS, r.a);
      const withId = r.b % 2 === 0;
      const id = withId ? `t${ctx.sendIds.length}` : null;
      if (id) ctx.sendIds.push(id);
      const send: GAction = { t: 'send', event: pick(EVENT_NAMES, r.c), delay, id, param: r.c % 3 === 0, namelist: r.c % 3 === 1, exprs: r.a % 5 === 2 };
      // A cancel before each send with an id keeps at most one pending send per id: with two, the
      // spec does not say which one <cancel> removes (and SCION keeps only the last handle).
      const body: GAction[] = [{ t: 'assign', location: 'q', expr: 'q + 1' }];
      if (id) body.push({ t: 'cancel', sendid: id });
      body.push(send);
      out.push({ t: 'if', branches: [{ cond: `q < ${Q_LIMIT}`, body }], otherwise: null });
    } else {
      const cancel: { t: 'cancel'; sendid: string } = { t: 'cancel', sendid: 't0' };
      ctx.cancels.push({ raw: r.a, set: (id) => { cancel.sendid = id; } });
      out.push(cancel);
    }
  }
  return out;
}

interface RawChart {
  readonly children: readonly RawNode[];
  readonly init: number;
  readonly initRef: number;
}

export function buildChart(raw: RawChart): GChart {
  const ctx: BuildContext = { counter: 0, sendIds: [], cancels: [] };
  const root = newState('scxml', 'root', null);
  const rawOf = new Map<GState, RawNode>();

  // 1. the tree, with structural rules
  const grow = (parent: GState, kids: readonly RawNode[]) => {
    const normal: GState[] = [];
    const history: GState[] = [];
    for (const r of kids) {
      let kind: Kind = r.kind < 45 ? 'state' : r.kind < 70 ? 'parallel' : r.kind < 85 ? 'final' : 'history';
      if (kind === 'history' && parent.kind === 'scxml') kind = 'state';
      if (kind === 'final' && parent.kind === 'parallel') kind = 'state';
      const s = newState(kind, `s${++ctx.counter}`, parent);
      rawOf.set(s, r);
      if (kind === 'history') {
        s.historyType = r.extra % 2 === 0 ? 'shallow' : 'deep';
        history.push(s);
        continue;
      }
      if (kind === 'state' || kind === 'parallel') grow(s, r.children);
      if (kind === 'parallel' && !s.children.some((c) => c.kind !== 'history')) {
        // a parallel needs regions: give it two atomic ones
        for (let i = 0; i < 2; i++) {
          const region = newState('state', `s${++ctx.counter}`, s);
          s.children.push(region);
        }
      }
      normal.push(s);
    }
    parent.children = normal.length ? [...normal, ...history.slice(0, 2)] : [];
    // at most one history of each type per parent
    const seen = new Set<string>();
    parent.children = parent.children.filter((c) => c.kind !== 'history' || (!seen.has(c.historyType!) && (seen.add(c.historyType!), true)));
  };
  grow(root, raw.children);
  if (!root.children.length) root.children.push(newState('state', `s${++ctx.counter}`, root));

  const all = descendants(root);
  // ids in document order (ids were given depth-first at creation; renumber for readability)
  let n = 0;
  for (const s of all) s.id = `s${++n}`;

  const nonHistory = (xs: readonly GState[]) => xs.filter((x) => x.kind !== 'history');

  // 2. initial states, history defaults, done data, executable content
  if (raw.init % 3 === 1) root.initialAttr = pick(nonHistory(root.children), raw.initRef).id;
  for (const s of all) {
    const r = rawOf.get(s);
    if (s.kind === 'history') {
      const p = s.parent!;
      const candidates = s.historyType === 'shallow' ? nonHistory(p.children) : nonHistory(descendants(p));
      s.historyDefault = { target: pick(candidates, r?.initRef ?? 0).id, content: r ? buildActions(r.initContent, 'plain', ctx) : [] };
      continue;
    }
    if (!r) continue;
    if (r.extra % 5 === 3 && s.kind !== 'final') s.localData = { id: `l${s.id.slice(1)}`, expr: pick(['v0 * 2 + 1', 'arr.length', '[v1, v2]'], r.initRef) };
    s.onentry = r.onentry.length ? [buildActions(r.onentry, 'plain', ctx)] : [];
    s.onexit = r.onexit.length ? [buildActions(r.onexit, 'plain', ctx)] : [];
    if (s.kind === 'final') {
      const d = r.extra % 4;
      if (d === 1) s.donedata = { kind: 'param', expr: pick(NUM_EXPRS, r.initRef) };
      else if (d === 2) s.donedata = { kind: 'content', expr: pick(['v0 * 10 + v1', '[v0, v2]', "'done'"], r.initRef) };
      continue;
    }
    if (isCompound(s)) {
      const desc = nonHistory(descendants(s));
      if (r.init % 3 === 1) s.initialAttr = pick(desc, r.initRef).id;
      else if (r.init % 3 === 2) s.initialElement = { target: pick(desc, r.initRef).id, content: buildActions(r.initContent, 'plain', ctx) };
    }
  }

  // 3. transitions
  for (const s of all) {
    const r = rawOf.get(s);
    if (!r || s.kind === 'final' || s.kind === 'history') continue;
    for (const rt of r.transitions) {
      const eventless = rt.ev < 20;
      const event = eventless ? null : pick(DESCRIPTORS, rt.ev);
      let targets = rt.targets.map((x) => pick(all, x));
      // a multi-target set must be pairwise orthogonal; drop what is not
      targets = targets.filter((t, i) => targets.slice(0, i).every((u) => orthogonal(t, u)));
      // a history target reached from inside its own parent: W3C computes the domain from the
      // recorded configuration, SCION from the history state (deviation D3) — drop the target
      if (targets.some((t) => t.kind === 'history' && (t.parent === s ? false : isDescendant(s, t.parent!)))) targets = [];
      const type = rt.internal ? 'internal' : 'external';
      // A failing condition on a transition that an error event (or nothing) can trigger would make
      // every selection raise another error.execution: a macrostep that never ends, in both engines
      // (Orchestrion does not stop it: test/regressions/eventless-error-cond.scxml)
      const selfTriggered = eventless || SELF_TRIGGERED.has(event!);
      const conds = selfTriggered ? CONDS.slice(0, -1) : CONDS;
      const baseCond = rt.cond < 50 ? null : rt.cond < 60 ? `In('${pick(all, rt.cond * 7 + rt.ev).id}')` : pick(conds, rt.cond);
      // _event is captured only where it is one of our events or a done event (error data differ)
      let content = buildActions(rt.content, event && event !== '*' && !event.startsWith('error') ? 'transition-event' : 'plain', ctx);
      let cond: string | null = baseCond;
      // eventless transitions, and transitions done events can trigger (entering a final raises
      // one: a transition back into that final would loop for ever), spend the k budget
      if (selfTriggered) {
        cond = baseCond ? `k < ${K_LIMIT} && (${baseCond})` : `k < ${K_LIMIT}`;
        content = [{ t: 'assign', location: 'k', expr: 'k + 1' }, ...content];
      }
      s.transitions.push({ event, cond, targets: targets.map((t) => t.id), type, content });
    }
  }
  for (const c of ctx.cancels) c.set(ctx.sendIds.length ? pick(ctx.sendIds, c.raw) : 't0');

  const binding = Math.floor(raw.init / 3) % 2 === 1 ? 'late' : 'early';
  const locals = all.filter((s) => s.localData).map((s) => s.localData!.id);
  return { root, xml: toXml(root, binding), stateIds: all.map((s) => s.id), variables: [...Object.keys(VARIABLES), ...locals], binding };
}

/* ---------- XML ---------- */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/>/g, '&gt;');

function actionsXml(actions: readonly GAction[], indent: string): string {
  return actions.map((a) => actionXml(a, indent)).join('');
}

function actionXml(a: GAction, indent: string): string {
  const i2 = indent + '  ';
  switch (a.t) {
    case 'raise': return a.viaSend ? `${indent}<send event="${a.event}" target="#_internal"/>\n` : `${indent}<raise event="${a.event}"/>\n`;
    case 'script': return `${indent}<script>${esc(a.code)}</script>\n`;
    case 'assign': return `${indent}<assign location="${a.location}" expr="${esc(a.expr)}"/>\n`;
    case 'cancel': return `${indent}<cancel sendid="${a.sendid}"/>\n`;
    case 'foreach': return `${indent}<foreach array="${a.array}" item="it${a.level}" index="ix${a.level}">\n${actionsXml(a.body, i2)}${indent}</foreach>\n`;
    case 'send': {
      const attrs = [a.exprs ? `eventexpr="'${a.event}'"` : `event="${a.event}"`];
      if (a.delay) attrs.push(a.exprs ? `delayexpr="'${a.delay}'"` : `delay="${a.delay}"`);
      if (a.id) attrs.push(`id="${a.id}"`);
      if (a.namelist) attrs.push('namelist="v0 v1"');
      return a.param
        ? `${indent}<send ${attrs.join(' ')}><param name="p" expr="v2"/></send>\n`
        : `${indent}<send ${attrs.join(' ')}/>\n`;
    }
    case 'if': {
      let out = `${indent}<if cond="${esc(a.branches[0].cond)}">\n${actionsXml(a.branches[0].body, i2)}`;
      for (const b of a.branches.slice(1)) out += `${indent}<elseif cond="${esc(b.cond)}"/>\n${actionsXml(b.body, i2)}`;
      if (a.otherwise) out += `${indent}<else/>\n${actionsXml(a.otherwise, i2)}`;
      return out + `${indent}</if>\n`;
    }
  }
}

function transitionXml(t: GTransition, indent: string): string {
  const attrs: string[] = [];
  if (t.event) attrs.push(`event="${t.event}"`);
  if (t.cond) attrs.push(`cond="${esc(t.cond)}"`);
  if (t.targets.length) attrs.push(`target="${t.targets.join(' ')}"`);
  if (t.type === 'internal') attrs.push('type="internal"');
  const head = `${indent}<transition${attrs.length ? ' ' + attrs.join(' ') : ''}`;
  return t.content.length ? `${head}>\n${actionsXml(t.content, indent + '  ')}${indent}</transition>\n` : `${head}/>\n`;
}

function stateXml(s: GState, indent: string): string {
  const i2 = indent + '  ';
  if (s.kind === 'history') {
    const d = s.historyDefault!;
    return `${indent}<history id="${s.id}" type="${s.historyType}">\n${transitionXml({ event: null, cond: null, targets: [d.target], type: 'external', content: d.content }, i2)}${indent}</history>\n`;
  }
  const attrs = [`id="${s.id}"`];
  if (s.initialAttr) attrs.push(`initial="${s.initialAttr}"`);
  let body = '';
  if (s.localData) body += `${i2}<datamodel><data id="${s.localData.id}" expr="${esc(s.localData.expr)}"/></datamodel>\n`;
  if (s.initialElement) body += `${i2}<initial>\n${transitionXml({ event: null, cond: null, targets: [s.initialElement.target], type: 'external', content: s.initialElement.content }, i2 + '  ')}${i2}</initial>\n`;
  for (const b of s.onentry) body += `${i2}<onentry>\n${actionsXml(b, i2 + '  ')}${i2}</onentry>\n`;
  for (const b of s.onexit) body += `${i2}<onexit>\n${actionsXml(b, i2 + '  ')}${i2}</onexit>\n`;
  for (const t of s.transitions) body += transitionXml(t, i2);
  for (const c of s.children) body += stateXml(c, i2);
  if (s.donedata) {
    body += s.donedata.kind === 'param'
      ? `${i2}<donedata><param name="r" expr="${esc(s.donedata.expr)}"/></donedata>\n`
      : `${i2}<donedata><content expr="${esc(s.donedata.expr)}"/></donedata>\n`;
  }
  const tag = s.kind === 'final' ? 'final' : s.kind === 'parallel' ? 'parallel' : 'state';
  return body ? `${indent}<${tag} ${attrs.join(' ')}>\n${body}${indent}</${tag}>\n` : `${indent}<${tag} ${attrs.join(' ')}/>\n`;
}

function toXml(root: GState, binding: 'early' | 'late'): string {
  const data = Object.entries(VARIABLES).map(([id, expr]) => `    <data id="${id}" expr="${esc(expr)}"/>\n`).join('');
  const initial = (root.initialAttr ? ` initial="${root.initialAttr}"` : '') + (binding === 'late' ? ' binding="late"' : '');
  return `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="ecmascript"${initial}>\n  <datamodel>\n${data}  </datamodel>\n${root.children.map((c) => stateXml(c, '  ')).join('')}</scxml>\n`;
}
