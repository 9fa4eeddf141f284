// `npm run bench:report`: the Markdown tables of docs/performance.md, from a results file that
// `npm run bench` wrote, so the page shows exactly what one run measured.
//   node dist/bench/report.js [bench/results.json]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './workloads.js';

interface Results {
  readonly date: string;
  readonly quick: boolean;
  readonly revision: string | null;
  readonly machine: {
    readonly cpu: string; readonly cpus: number; readonly memoryGiB: number; readonly os: string; readonly node: string;
    readonly loadAverageAtStart: number[]; readonly loadAverageAtEnd: number[];
  };
  readonly durationSeconds: number;
  readonly sandbox: readonly Record<string, number | string>[];
  readonly workloads: readonly Row[];
  readonly ratios: readonly { workload: string; variant: string; figure: string; peer: string; ratio: number }[];
  readonly targets: readonly { target: string; measured: string; met: boolean }[];
  readonly failures: readonly string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, '..', '..', 'bench', 'results.json');
const r = JSON.parse(readFileSync(file, 'utf8')) as Results;

const n = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '' : v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const name = (row: Row) => (row.engine === 'orchestrion' ? `Orchestrion ${row.variant}` : row.engine === 'scion' ? `SCION (${row.variant})` : `XState ${row.variant}`);
const rowsOf = (workload: string) => r.workloads.filter((w) => w.workload === workload);
/** Orchestrion ÷ peer for rates, peer ÷ Orchestrion for costs: above 1, Orchestrion does better. */
function ratio(row: Row, figure: string, peer: 'scion' | 'xstate', cost = false): string {
  if (row.engine !== 'orchestrion') return '';
  const mine = row.figures[figure];
  const theirs = r.workloads.find((w) => w.workload === row.workload && w.engine === peer && !/NOT isolated/.test(w.variant))?.figures[figure];
  if (!mine || !theirs) return '';
  return n(cost ? theirs / mine : mine / theirs, 2);
}
function table(head: string[], rows: string[][]): string {
  const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [head, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const out: string[] = [];
const m = r.machine;
out.push(table(['', ''], [
  ['date', `${r.date.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (quick run: smaller counts)' : ''}`],
  ['revision', `\`${r.revision ?? 'unknown'}\``],
  ['machine', `${m.cpu}, ${m.cpus} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`],
  ['load average (1, 5, 15 min)', `${m.loadAverageAtStart.join(', ')} at the start; ${m.loadAverageAtEnd.join(', ')} at the end`],
  ['duration', `${r.durationSeconds} s`],
]).replace('| --- | ---: |', '| --- | --- |'));

out.push('\n### Targets\n');
out.push(table(['target', 'measured', ''], r.targets.map((t) => [t.target, t.measured, t.met ? 'met' : '**missed**'])).replace(/---:/g, '---'));

for (const [workload, title] of [['pingpong', 'ping/pong (one session, one cond and one assign per event)'],
  ['deep', 'deep (parallel of two regions three compound levels deep; the event exits and re-enters both)']] as const) {
  out.push(`\n### ${title}\n`);
  out.push(table(['engine', 'events/s', 'events/CPU-s', '×SCION', '×XState'], rowsOf(workload).map((w) => [
    name(w), n(w.figures.eventsPerSecond), n(w.figures.eventsPerCpuSecond), ratio(w, 'eventsPerSecond', 'scion'), ratio(w, 'eventsPerSecond', 'xstate'),
  ])));
}

out.push('\n### start (create and start sessions of a 10-state chart with three variables, kept alive)\n');
out.push(table(['engine', 'sessions', 'sessions/s', 'sessions/CPU-s', 'heap B/session', 'WebAssembly reserved B/session', 'resident B/session', '×SCION (rate, heap)', '×XState (rate, heap)'],
  rowsOf('start').map((w) => [
    name(w), n(w.figures.sessions), n(w.figures.sessionsPerSecond), n(w.figures.sessionsPerCpuSecond), n(w.figures.heapBytesPerSession),
    n(w.figures.externalBytesPerSession), n(w.figures.rssBytesPerSession),
    [ratio(w, 'sessionsPerSecond', 'scion'), ratio(w, 'heapBytesPerSession', 'scion', true)].filter(Boolean).join(', '),
    [ratio(w, 'sessionsPerSecond', 'xstate'), ratio(w, 'heapBytesPerSession', 'xstate', true)].filter(Boolean).join(', '),
  ])));

out.push('\n### fan-in (live sessions of the ping/pong chart, events round-robin)\n');
out.push(table(['engine', 'sessions', 'events/s', 'p50 µs', 'p99 µs', 'peak RSS MiB', '×SCION (rate, p99)', '×XState (rate, p99)'],
  rowsOf('fanin').map((w) => [
    name(w), n(w.figures.sessions), n(w.figures.eventsPerSecond), n(w.figures.p50LatencyUs, 1), n(w.figures.p99LatencyUs, 1),
    n(w.figures.maxRssBytes / 2 ** 20),
    [ratio(w, 'eventsPerSecond', 'scion'), ratio(w, 'p99LatencyUs', 'scion', true)].filter(Boolean).join(', '),
    [ratio(w, 'eventsPerSecond', 'xstate'), ratio(w, 'p99LatencyUs', 'xstate', true)].filter(Boolean).join(', '),
  ])));

out.push('\n### ixn:privateservice round trip and ParlayX chargeAmount\n');
out.push(table(['case', 'per second'], [
  ...rowsOf('privateservice').map((w) => [`privateservice, ${w.variant}`, `${n(w.figures.requestsPerSecond)} requests`]),
  ...rowsOf('charges').map((w) => [`chargeAmount over HTTP, ${w.variant}`, `${n(w.figures.chargesPerSecond)} charges`]),
]));

if (r.sandbox.length) {
  out.push('\n### The sandbox alone\n');
  out.push(table(['mode', 'conds/s', 'sandbox state per session', 'whole idle session'], r.sandbox.map((s) => [
    String(s.mode), n(Number(s.condsPerSecond)),
    `${n(Number(s.sandboxHeapBytesPerSession))} B heap`, `${n(Number(s.heapBytesPerSession))} B heap`,
  ])));
}
if (r.failures.length) out.push(`\nFailed cases: ${r.failures.join(', ')}`);
console.log(out.join('\n'));
