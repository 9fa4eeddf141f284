/**
 * The simulated switches' topology: which switches exist, their DNs (by type) and how each DN
 * behaves when a call is offered to it. Loadable from JSON (schemas/switch-topology.schema.json),
 * validated by hand so that every problem names its JSON path.
 */
import { readFileSync } from 'node:fs';
import type { DnType } from '../adapter.js';

/** What a DN does when a call is offered to it (redirect, transfer, conference, make call). */
export type BehaviourKind = 'answer' | 'busy' | 'noanswer' | 'unreachable';

/** The behaviour fields, as written in the topology (all optional). */
export interface BehaviourSpec {
  /** Default "answer". */
  readonly behaviour?: BehaviourKind;
  /** For "answer": ring this long before answering (ms). Default by DN type (agent 1000, extension 2000, trunk/external 2000). */
  readonly answerAfterMs?: number;
  /** For "noanswer": stop ringing after this long (ms); absent = ring until someone else acts. */
  readonly noAnswerTimeoutMs?: number;
}

/** One DN (`dn`) or a block of DNs (`range`, "first-last" of equal digit count). */
export interface TopologyDnEntry extends BehaviourSpec {
  readonly dn?: string;
  readonly range?: string;
  readonly type: DnType;
}

export interface TopologySwitch {
  /** The switch name (as strategies address it, `dn@switch`); unique. */
  readonly name: string;
  /** DN entries, in order: a later entry for the same DN replaces an earlier one. */
  readonly dns: readonly TopologyDnEntry[];
  /** Numbers not on the switch that start with one of these are external (reachable through the SIP Server). Default ["+"]. */
  readonly externalPrefixes?: readonly string[];
  /** How external numbers behave. Default answer after 2000 ms. */
  readonly external?: BehaviourSpec;
  /** Delay before the switch answers a request (ms). Default 0 (the promise settles at once). */
  readonly requestLatencyMs?: number;
}

export interface Topology {
  readonly $schema?: string;
  readonly switches: readonly TopologySwitch[];
}

/** A behaviour with every field decided. */
export interface DnBehaviour {
  readonly behaviour: BehaviourKind;
  readonly answerAfterMs: number;
  /** null: rings forever. */
  readonly noAnswerTimeoutMs: number | null;
}

export interface DnConfig extends DnBehaviour {
  readonly dn: string;
  readonly type: DnType;
}

/** A switch as the simulator runs it: every DN expanded, every default applied. */
export interface SwitchConfig {
  readonly name: string;
  readonly dns: ReadonlyMap<string, DnConfig>;
  readonly externalPrefixes: readonly string[];
  readonly external: DnBehaviour;
  readonly requestLatencyMs: number;
}

export const DN_TYPES: readonly DnType[] = ['extension', 'routingpoint', 'trunk', 'queue', 'agent'];
export const BEHAVIOURS: readonly BehaviourKind[] = ['answer', 'busy', 'noanswer', 'unreachable'];
/** Default ring time before answering, by DN type ("external" for numbers outside the switch). */
export const DEFAULT_ANSWER_AFTER_MS = { agent: 1000, extension: 2000, trunk: 2000, external: 2000 } as const;
/** DN types where a call waits (state "queued") instead of ringing a device; they take no behaviour. */
export const WAITING_TYPES: readonly DnType[] = ['routingpoint', 'queue'];
/** The largest block one `range` may describe. */
export const MAX_RANGE_SIZE = 100_000;

/** The engine's default: one SIP Server switch with routing points, extensions and agent DNs. */
export const DEFAULT_TOPOLOGY: Topology = Object.freeze({
  switches: Object.freeze([
    Object.freeze({
      name: 'SIP_Switch',
      externalPrefixes: Object.freeze(['+']),
      dns: Object.freeze([
        Object.freeze({ range: '5000-5099', type: 'routingpoint' as const }),
        Object.freeze({ range: '1000-1999', type: 'extension' as const, answerAfterMs: 2000 }),
        Object.freeze({ range: '9000-9099', type: 'agent' as const, answerAfterMs: 1000 }),
        // Gateway trunks: third-party calls (ParlayX makeCall) start here.
        Object.freeze({ range: '8000-8099', type: 'trunk' as const }),
      ]),
    }),
  ]),
});

export interface TopologyProblem {
  /** JSON path of the offending value, e.g. `$.switches[0].dns[2].range`. */
  readonly path: string;
  readonly message: string;
}

export class TopologyError extends Error {
  constructor(readonly problems: readonly TopologyProblem[], source?: string) {
    super(`invalid switch topology${source ? ` (${source})` : ''}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'TopologyError';
  }
}

/**
 * Load and validate a topology: a parsed JSON value, JSON text (a string starting with "{"), or
 * the path of a JSON file. Throws TopologyError listing every problem with its JSON path.
 */
export function loadTopology(source: unknown): Topology {
  let value = source;
  let label: string | undefined;
  if (typeof source === 'string') {
    let text = source;
    if (!source.trimStart().startsWith('{')) {
      label = source;
      try {
        text = readFileSync(source, 'utf8');
      } catch (e) {
        throw new TopologyError([{ path: '$', message: `cannot read the topology file: ${(e as Error).message}` }], label);
      }
    }
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new TopologyError([{ path: '$', message: `not valid JSON: ${(e as Error).message}` }], label);
    }
  }
  const problems = validateTopology(value);
  if (problems.length) throw new TopologyError(problems, label);
  return value as Topology;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `"${v}"` : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`);
const DN_PATTERN = /^[^\s@]+$/;
const RANGE_PATTERN = /^([0-9]+)-([0-9]+)$/;

/** Every problem in a would-be topology (empty when it is valid). */
export function validateTopology(value: unknown): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  const unknownKeys = (obj: Record<string, unknown>, path: string, allowed: readonly string[]) => {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) problem(`${path}.${key}`, `unknown property (allowed: ${allowed.join(', ')})`);
    }
  };
  const nonNegativeInteger = (obj: Record<string, unknown>, key: string, path: string) => {
    const v = obj[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) problem(`${path}.${key}`, `must be a non-negative integer (ms), not ${describe(v)}`);
  };
  const behaviour = (obj: Record<string, unknown>, path: string) => {
    const b = obj.behaviour;
    if (b !== undefined && !BEHAVIOURS.includes(b as BehaviourKind)) problem(`${path}.behaviour`, `must be one of ${BEHAVIOURS.join(', ')}, not ${describe(b)}`);
    nonNegativeInteger(obj, 'answerAfterMs', path);
    nonNegativeInteger(obj, 'noAnswerTimeoutMs', path);
    const kind = (b ?? 'answer') as BehaviourKind;
    if (obj.answerAfterMs !== undefined && kind !== 'answer') problem(`${path}.answerAfterMs`, `applies only to behaviour "answer" (this DN is "${kind}")`);
    if (obj.noAnswerTimeoutMs !== undefined && kind !== 'noanswer') problem(`${path}.noAnswerTimeoutMs`, `applies only to behaviour "noanswer" (this DN is "${kind}")`);
  };

  if (!isObject(value)) {
    problem('$', `a topology must be an object with "switches", not ${describe(value)}`);
    return problems;
  }
  unknownKeys(value, '$', ['$schema', 'switches']);
  if (value.$schema !== undefined && typeof value.$schema !== 'string') problem('$.$schema', 'must be a string');
  const switches = value.switches;
  if (!Array.isArray(switches)) {
    problem('$.switches', switches === undefined ? 'is required (an array of switches)' : `must be an array of switches, not ${describe(switches)}`);
    return problems;
  }
  if (switches.length === 0) problem('$.switches', 'must list at least one switch');
  const names = new Map<string, number>();
  switches.forEach((sw, i) => {
    const path = `$.switches[${i}]`;
    if (!isObject(sw)) return problem(path, `must be an object, not ${describe(sw)}`);
    unknownKeys(sw, path, ['name', 'dns', 'externalPrefixes', 'external', 'requestLatencyMs']);
    if (typeof sw.name !== 'string' || !DN_PATTERN.test(sw.name)) {
      problem(`${path}.name`, sw.name === undefined ? 'is required' : `must be a non-empty string without spaces or "@", not ${describe(sw.name)}`);
    } else if (names.has(sw.name)) {
      problem(`${path}.name`, `duplicate switch name "${sw.name}" (also $.switches[${names.get(sw.name)}])`);
    } else {
      names.set(sw.name, i);
    }
    nonNegativeInteger(sw, 'requestLatencyMs', path);
    if (sw.externalPrefixes !== undefined) {
      if (!Array.isArray(sw.externalPrefixes)) problem(`${path}.externalPrefixes`, `must be an array of strings, not ${describe(sw.externalPrefixes)}`);
      else sw.externalPrefixes.forEach((p, j) => {
        if (typeof p !== 'string' || p === '' || /\s/.test(p)) problem(`${path}.externalPrefixes[${j}]`, `must be a non-empty string without spaces, not ${describe(p)}`);
      });
    }
    if (sw.external !== undefined) {
      if (!isObject(sw.external)) problem(`${path}.external`, `must be an object, not ${describe(sw.external)}`);
      else {
        unknownKeys(sw.external, `${path}.external`, ['behaviour', 'answerAfterMs', 'noAnswerTimeoutMs']);
        behaviour(sw.external, `${path}.external`);
      }
    }
    if (!Array.isArray(sw.dns)) {
      problem(`${path}.dns`, sw.dns === undefined ? 'is required (an array of DN entries)' : `must be an array of DN entries, not ${describe(sw.dns)}`);
      return;
    }
    sw.dns.forEach((entry, j) => {
      const epath = `${path}.dns[${j}]`;
      if (!isObject(entry)) return problem(epath, `must be an object, not ${describe(entry)}`);
      unknownKeys(entry, epath, ['dn', 'range', 'type', 'behaviour', 'answerAfterMs', 'noAnswerTimeoutMs']);
      if (entry.dn !== undefined && entry.range !== undefined) problem(epath, 'give either "dn" or "range", not both');
      else if (entry.dn === undefined && entry.range === undefined) problem(epath, 'needs "dn" (one DN) or "range" ("first-last")');
      if (entry.dn !== undefined && (typeof entry.dn !== 'string' || !DN_PATTERN.test(entry.dn))) {
        problem(`${epath}.dn`, `must be a non-empty string without spaces or "@", not ${describe(entry.dn)}`);
      }
      if (entry.range !== undefined) {
        const m = typeof entry.range === 'string' ? RANGE_PATTERN.exec(entry.range) : null;
        if (!m) problem(`${epath}.range`, `must be "first-last" (digits), e.g. "1000-1999", not ${describe(entry.range)}`);
        else if (m[1].length !== m[2].length) problem(`${epath}.range`, `both ends must have the same number of digits ("${m[1]}" and "${m[2]}")`);
        else if (BigInt(m[1]) > BigInt(m[2])) problem(`${epath}.range`, `the first DN (${m[1]}) is after the last (${m[2]})`);
        else if (BigInt(m[2]) - BigInt(m[1]) + 1n > BigInt(MAX_RANGE_SIZE)) problem(`${epath}.range`, `describes more than ${MAX_RANGE_SIZE} DNs`);
      }
      if (entry.type === undefined) problem(`${epath}.type`, `is required (one of ${DN_TYPES.join(', ')})`);
      else if (!DN_TYPES.includes(entry.type as DnType)) problem(`${epath}.type`, `must be one of ${DN_TYPES.join(', ')}, not ${describe(entry.type)}`);
      else if (WAITING_TYPES.includes(entry.type as DnType)) {
        for (const key of ['behaviour', 'answerAfterMs', 'noAnswerTimeoutMs']) {
          if (entry[key] !== undefined) problem(`${epath}.${key}`, `does not apply to a ${entry.type} (calls wait there)`);
        }
        return;
      }
      behaviour(entry, epath);
    });
  });
  return problems;
}

function decide(spec: BehaviourSpec | undefined, defaultAnswerMs: number): DnBehaviour {
  const behaviour = spec?.behaviour ?? 'answer';
  return {
    behaviour,
    answerAfterMs: spec?.answerAfterMs ?? defaultAnswerMs,
    noAnswerTimeoutMs: spec?.noAnswerTimeoutMs ?? null,
  };
}

function expand(entry: TopologyDnEntry): string[] {
  if (entry.dn !== undefined) return [entry.dn];
  const m = RANGE_PATTERN.exec(entry.range ?? '');
  if (!m) return [];
  const width = m[1].length;
  const out: string[] = [];
  for (let n = BigInt(m[1]), last = BigInt(m[2]); n <= last; n++) out.push(n.toString().padStart(width, '0'));
  return out;
}

/** Expand a (validated) topology switch into the simulator's configuration. */
export function switchConfig(sw: TopologySwitch): SwitchConfig {
  const dns = new Map<string, DnConfig>();
  for (const entry of sw.dns) {
    const defaultMs = entry.type === 'agent' || entry.type === 'extension' || entry.type === 'trunk' ? DEFAULT_ANSWER_AFTER_MS[entry.type] : 0;
    const b = WAITING_TYPES.includes(entry.type) ? decide(undefined, 0) : decide(entry, defaultMs);
    for (const dn of expand(entry)) {
      dns.delete(dn); // a later entry replaces an earlier one, and takes its place in the order
      dns.set(dn, { dn, type: entry.type, ...b });
    }
  }
  return {
    name: sw.name,
    dns,
    externalPrefixes: [...(sw.externalPrefixes ?? ['+'])],
    external: decide(sw.external, DEFAULT_ANSWER_AFTER_MS.external),
    requestLatencyMs: sw.requestLatencyMs ?? 0,
  };
}
