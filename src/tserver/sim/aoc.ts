/**
 * Advice of Charge as a SIP Server sends it (3GPP TS 24.647, the XML body of a SIP INFO):
 * MIME type application/vnd.etsi.aoc+xml, namespace http://uri.etsi.org/ngn/params/xml/simservs/aoc,
 * root <aoc> holding one of <aoc-s>, <aoc-d>, <aoc-e>.
 *
 * The charge is read from keys of the private service request (extensions first, then user data;
 * key names are matched case-insensitively) — see docs/reference/tserver-adapter.md. Element names
 * follow the published AoC XML as implemented by SIP stacks (e.g. Asterisk's res_pjsip_aoc):
 *   <aoc-d><charging-info>subtotal|total</charging-info><recorded-charges>…</recorded-charges><billing-id>…</billing-id></aoc-d>
 *   <aoc-e><recorded-charges>…</recorded-charges><billing-id>…</billing-id></aoc-e>
 *   recorded charges: <recorded-currency-units><currency-id/><currency-amount/></recorded-currency-units>
 *                     | <free-charge/> | <not-available/>
 *   <aoc-s><charged-items><basic|communication-attempt|communication-setup>
 *            <flat-rate>… | <price-time>… <length-time-unit><time-unit/><scale/></length-time-unit><charging-type/> | <free-charge/> | <not-available/>
 */
import { AdapterError } from '../adapter.js';

export const AOC_CONTENT_TYPE = 'application/vnd.etsi.aoc+xml';
export const AOC_NAMESPACE = 'http://uri.etsi.org/ngn/params/xml/simservs/aoc';
/** The extensions key naming the party that receives the AoC. */
export const AOC_DESTINATION_KEY = 'AOC-Destination-DN';

export type AocType = 'S' | 'D' | 'E';

export type AocCharge =
  | { readonly kind: 'currency'; readonly currency: string | null; /** decimal, multiplier applied */ readonly amount: string }
  | { readonly kind: 'units'; readonly units: string }
  | { readonly kind: 'free' }
  | { readonly kind: 'notavailable' };

export type AocRate =
  | { readonly kind: 'flat' }
  | { readonly kind: 'duration'; readonly timeUnit: number; readonly scale: string; readonly chargingType: string };

export interface AocMessage {
  readonly type: AocType;
  readonly charge: AocCharge;
  /** AoC-D only. */
  readonly totalType: 'subtotal' | 'total';
  /** AoC-D/E, optional. */
  readonly billingId: string | null;
  /** AoC-S only. */
  readonly chargedItem: string;
  /** AoC-S only, when the charge is a currency amount. */
  readonly rate: AocRate;
}

export const AOC_BILLING_IDS = [
  'normal-charging', 'reverse-charging', 'credit-card-charging', 'call-forwarding-unconditional',
  'call-forwarding-busy', 'call-forwarding-no-reply', 'call-deflection', 'call-transfer',
] as const;
export const AOC_CHARGED_ITEMS = ['basic', 'communication-attempt', 'communication-setup'] as const;
export const AOC_TIME_SCALES = [
  'one-hundredth-second', 'one-tenth-second', 'one-second', 'ten-seconds', 'one-minute', 'one-hour', 'twenty-four-hours',
] as const;
export const AOC_CHARGING_TYPES = ['continuous', 'step-function'] as const;
/** AOC-Multiplier values and the power of ten each stands for. */
const MULTIPLIERS: Readonly<Record<string, number>> = {
  '0.001': -3, '1/1000': -3, '0.01': -2, '1/100': -2, '0.1': -1, '1/10': -1, '1': 0, '10': 1, '100': 2, '1000': 3,
};

const invalid = (description: string) => new AdapterError('invalidrequest', description);

/** Case-insensitive lookup in extensions, then user data. */
function keyReader(extensions: Readonly<Record<string, unknown>>, udata: Readonly<Record<string, unknown>>) {
  const index = (rec: Readonly<Record<string, unknown>>) => {
    const m = new Map<string, unknown>();
    for (const [k, v] of Object.entries(rec)) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
    return m;
  };
  const ext = index(extensions);
  const ud = index(udata);
  return (key: string): unknown => {
    const k = key.toLowerCase();
    const v = ext.has(k) ? ext.get(k) : ud.get(k);
    return v === null || v === '' ? undefined : v;
  };
}

function enumValue<T extends string>(value: unknown, key: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  const s = String(value).toLowerCase();
  const hit = allowed.find((a) => a.toLowerCase() === s);
  if (!hit) throw invalid(`${key} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  return hit;
}

function decimal(value: unknown, key: string): string {
  const s = typeof value === 'number' ? (Number.isFinite(value) ? numberText(value) : '') : typeof value === 'string' ? value.trim() : '';
  if (!/^[0-9]+(\.[0-9]+)?$/.test(s)) throw invalid(`${key} must be a non-negative number, not ${JSON.stringify(value)}`);
  return s;
}

function numberText(n: number): string {
  if (n < 0) return '';
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, '') : s;
}

function integer(value: unknown, key: string, min: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[0-9]+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw invalid(`${key} must be an integer ≥ ${min}, not ${JSON.stringify(value)}`);
  return n;
}

function truthy(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return ['true', 'yes', '1', 'y', 'on'].includes(String(value).trim().toLowerCase());
}

/** Multiply a decimal string by 10^exp exactly (no binary floating point), normalised. */
export function shiftDecimal(value: string, exp: number): string {
  const [intPart, fracPart = ''] = value.split('.');
  let digits = intPart + fracPart;
  let point = intPart.length + exp;
  if (point > digits.length) digits = digits.padEnd(point, '0');
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  let whole = digits.slice(0, point).replace(/^0+(?=.)/, '') || '0';
  let frac = digits.slice(point).replace(/0+$/, '');
  if (whole === '') whole = '0';
  return frac ? `${whole}.${frac}` : whole;
}

/**
 * The AoC message a private service request asks for. Throws AdapterError("invalidrequest")
 * naming the key when a value is malformed or the keys contradict each other.
 */
export function aocFromKeys(extensions: Readonly<Record<string, unknown>>, udata: Readonly<Record<string, unknown>>): AocMessage {
  const get = keyReader(extensions, udata);
  const typeRaw = get('AOC-Type');
  let type: AocType = 'D';
  if (typeRaw !== undefined) {
    const t = String(typeRaw).trim().toUpperCase().replace(/^AOC-?/, '');
    if (t !== 'S' && t !== 'D' && t !== 'E') throw invalid(`AOC-Type must be S, D or E, not ${JSON.stringify(typeRaw)}`);
    type = t;
  }

  const amountRaw = get('AOC-Amount');
  const unitsRaw = get('AOC-Units');
  const free = truthy(get('AOC-Free'));
  const currencyRaw = get('AOC-Currency');
  const multiplierRaw = get('AOC-Multiplier');
  const given = [amountRaw !== undefined && 'AOC-Amount', unitsRaw !== undefined && 'AOC-Units', free && 'AOC-Free'].filter(Boolean);
  if (given.length > 1) throw invalid(`give one charge: ${given.join(' and ')} contradict each other`);
  if (currencyRaw !== undefined && amountRaw === undefined) throw invalid('AOC-Currency needs AOC-Amount');
  if (multiplierRaw !== undefined && amountRaw === undefined) throw invalid('AOC-Multiplier needs AOC-Amount');
  if (unitsRaw !== undefined && type === 'S') throw invalid('AOC-Units (charging units) do not apply to AoC-S; give a tariff with AOC-Amount');

  let charge: AocCharge = { kind: 'notavailable' };
  if (amountRaw !== undefined) {
    const amount = decimal(amountRaw, 'AOC-Amount');
    let exp = 0;
    if (multiplierRaw !== undefined) {
      const key = typeof multiplierRaw === 'number' ? numberText(multiplierRaw) : String(multiplierRaw).trim();
      const e = MULTIPLIERS[key];
      if (e === undefined) throw invalid(`AOC-Multiplier must be one of 0.001, 0.01, 0.1, 1, 10, 100, 1000, not ${JSON.stringify(multiplierRaw)}`);
      exp = e;
    }
    let currency: string | null = null;
    if (currencyRaw !== undefined) {
      currency = String(currencyRaw).trim();
      // ISDN AoC allows a currency of up to 10 characters; ISO 4217 codes are 3.
      if (currency.length < 1 || currency.length > 10 || /[\u0000-\u001f\u007f]/.test(currency)) {
        throw invalid(`AOC-Currency must be 1 to 10 printable characters, not ${JSON.stringify(currencyRaw)}`);
      }
    }
    charge = { kind: 'currency', currency, amount: shiftDecimal(amount, exp) };
  } else if (unitsRaw !== undefined) {
    charge = { kind: 'units', units: String(integer(unitsRaw, 'AOC-Units', 0)) };
  } else if (free) {
    charge = { kind: 'free' };
  }

  const totalType = enumValue(get('AOC-Total-Type'), 'AOC-Total-Type', ['subtotal', 'total'] as const, type === 'E' ? 'total' : 'subtotal');
  const billingRaw = get('AOC-Billing-Id');
  const billingId = billingRaw === undefined ? null : enumValue(billingRaw, 'AOC-Billing-Id', AOC_BILLING_IDS, 'normal-charging');
  const chargedItem = enumValue(get('AOC-Charged-Item'), 'AOC-Charged-Item', AOC_CHARGED_ITEMS, 'basic');

  let rate: AocRate = { kind: 'flat' };
  const rateRaw = get('AOC-Rate-Type');
  const rateType = enumValue(rateRaw, 'AOC-Rate-Type', ['flat', 'duration', 'free'] as const, charge.kind === 'free' ? 'free' : 'flat');
  if (type === 'S') {
    if (rateType === 'free') {
      if (charge.kind === 'currency') throw invalid('AOC-Rate-Type "free" contradicts AOC-Amount');
      charge = { kind: 'free' };
    } else if (rateRaw !== undefined && charge.kind !== 'currency') {
      throw invalid(`AOC-Rate-Type "${rateType}" needs AOC-Amount (the tariff)`);
    }
    if (rateType === 'duration') {
      rate = {
        kind: 'duration',
        timeUnit: get('AOC-Time-Unit') === undefined ? 1 : integer(get('AOC-Time-Unit'), 'AOC-Time-Unit', 1),
        scale: enumValue(get('AOC-Time-Scale'), 'AOC-Time-Scale', AOC_TIME_SCALES, 'one-minute'),
        chargingType: enumValue(get('AOC-Charging-Type'), 'AOC-Charging-Type', AOC_CHARGING_TYPES, 'continuous'),
      };
    }
  }
  return { type, charge, totalType, billingId, chargedItem, rate };
}

/* ---------- XML ---------- */

interface XmlNode {
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly text?: string;
  readonly children?: readonly XmlNode[];
}

/** Escape text or attribute content; characters XML 1.0 cannot carry are dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function serialize(node: XmlNode, indent: string, out: string[]): void {
  const attrs = Object.entries(node.attrs ?? {}).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
  if (node.children && node.children.length) {
    out.push(`${indent}<${node.name}${attrs}>`);
    for (const child of node.children) serialize(child, indent + '  ', out);
    out.push(`${indent}</${node.name}>`);
  } else if (node.text !== undefined) {
    out.push(`${indent}<${node.name}${attrs}>${escapeXml(node.text)}</${node.name}>`);
  } else {
    out.push(`${indent}<${node.name}${attrs}/>`);
  }
}

const el = (name: string, content?: string | readonly XmlNode[]): XmlNode =>
  typeof content === 'string' ? { name, text: content } : { name, children: content ?? [] };

function currencyNodes(charge: { currency: string | null; amount: string }): XmlNode[] {
  return [...(charge.currency !== null ? [el('currency-id', charge.currency)] : []), el('currency-amount', charge.amount)];
}

function recordedCharges(charge: AocCharge): XmlNode {
  switch (charge.kind) {
    case 'currency':
      return el('recorded-charges', [el('recorded-currency-units', currencyNodes(charge))]);
    case 'units':
      // Charging units travel as recorded currency units with the currency "UNIT" (as Asterisk does).
      return el('recorded-charges', [el('recorded-currency-units', [el('currency-id', 'UNIT'), el('currency-amount', charge.units)])]);
    case 'free':
      return el('recorded-charges', [el('free-charge')]);
    case 'notavailable':
      return el('recorded-charges', [el('not-available')]);
  }
}

function tariff(message: AocMessage): XmlNode {
  const { charge, rate } = message;
  if (charge.kind === 'free') return el('free-charge');
  if (charge.kind !== 'currency') return el('not-available');
  if (rate.kind === 'flat') return el('flat-rate', currencyNodes(charge));
  return el('price-time', [
    ...currencyNodes(charge),
    el('length-time-unit', [el('time-unit', String(rate.timeUnit)), el('scale', rate.scale)]),
    el('charging-type', rate.chargingType),
  ]);
}

/** The TS 24.647 XML body for an AoC message (UTF-8, with an XML declaration). */
export function aocXml(message: AocMessage): string {
  let body: XmlNode;
  const billing = message.billingId !== null ? [el('billing-id', message.billingId)] : [];
  switch (message.type) {
    case 'S':
      body = el('aoc-s', [el('charged-items', [el(message.chargedItem, [tariff(message)])])]);
      break;
    case 'D':
      body = el('aoc-d', [el('charging-info', message.totalType), recordedCharges(message.charge), ...billing]);
      break;
    case 'E':
      body = el('aoc-e', [recordedCharges(message.charge), ...billing]);
      break;
  }
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  serialize({ name: 'aoc', attrs: { xmlns: AOC_NAMESPACE }, children: [body] }, '', out);
  return out.join('\n') + '\n';
}
