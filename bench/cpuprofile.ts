// Summarise a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
// and the most inclusive (self + callees) time, as shares of all samples.
//   node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface FunctionTime {
  /** `name (file:line)`, lines 1-based. */
  readonly fn: string;
  readonly ms: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly self: FunctionTime[];
  readonly inclusive: FunctionTime[];
}

function frameName(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.startsWith('file://') ? path.basename(new URL(f.url).pathname) : f.url.includes('/') ? path.basename(f.url) : f.url;
  return `${name} (${file}:${f.lineNumber + 1})`;
}

export function summarise(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sampleTime = new Map<number, number>();
  profile.samples.forEach((id, i) => sampleTime.set(id, (sampleTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, us] of sampleTime) {
    total += us;
    const node = byId.get(id)!;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    // Inclusive: every distinct function on the stack of this sample (recursion counted once).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = frameName(byId.get(at)!.callFrame);
      if (seen.has(n)) continue;
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + us);
    }
  }
  const rank = (m: Map<string, number>) => [...m]
    .filter(([fn]) => fn !== '(root)' && fn !== '(program)' && fn !== '(idle)')
    .sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 100) / 10, percent: Math.round((us / total) * 1000) / 10 }));
  return { file, totalMs: Math.round(total / 1000), self: rank(self), inclusive: rank(inclusive) };
}

export function formatSummary(s: ProfileSummary, top = 20): string {
  const lines = [`${path.basename(s.file)}: ${s.totalMs} ms sampled`, '  self time:'];
  for (const f of s.self.slice(0, top)) lines.push(`    ${f.percent.toFixed(1).padStart(5)}%  ${f.fn}`);
  lines.push('  inclusive time (self + callees):');
  for (const f of s.inclusive.slice(0, top)) lines.push(`    ${f.percent.toFixed(1).padStart(5)}%  ${f.fn}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('cpuprofile.js')) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 20);
  console.log(formatSummary(summarise(file, top), top));
}
