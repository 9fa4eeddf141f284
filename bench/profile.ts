// `npm run bench:profile`: CPU profiles of Orchestrion's hot paths, each taken with
// `node --cpu-prof` in its own process and summarised (bench/cpuprofile.ts).
//   node dist/bench/profile.js [TARGET...] [--dir DIR] [--top N]
// Targets: pingpong-api, pingpong-sync, start, pingpong-isolated, privateservice (default: all).
// The .cpuprofile files stay in DIR (default: a new temporary directory) for Chrome DevTools.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PINGPONG_SCXML, START_SCXML } from './charts.js';
import { formatSummary, summarise } from './cpuprofile.js';
import { orchestrionDrivers } from './drivers.js';
import type { Session } from '../src/index.js';
import { benchPrivateService } from './privateservice.js';

const TARGETS: Record<string, () => Promise<string>> = {
  /** One session, events through session.send() in bursts of 10,000, the engine draining. */
  async 'pingpong-api'() {
    const { api: d } = await orchestrionDrivers(PINGPONG_SCXML, { mode: 'fast' });
    const s = d.create() as Session;
    await d.settle();
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < 10_000; j++) d.send(s, 'tick');
      await d.settle();
    }
    return `1,000,000 events in ${Math.round(performance.now() - t0)} ms`;
  },
  /** The same, each event processed at once (session.send + session.step). */
  async 'pingpong-sync'() {
    const { sync: d } = await orchestrionDrivers(PINGPONG_SCXML, { mode: 'fast' });
    const s = d.create() as Session;
    const t0 = performance.now();
    for (let i = 0; i < 2_000_000; i++) d.send(s, 'tick');
    return `2,000,000 events in ${Math.round(performance.now() - t0)} ms`;
  },
  /** Five batches of 10,000 sessions of the 10-state chart, started and kept alive. */
  async start() {
    const { api: d } = await orchestrionDrivers(START_SCXML, { mode: 'fast' });
    const t0 = performance.now();
    const keep: unknown[] = [];
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < 10_000; i++) keep.push(d.create());
      await d.settle();
    }
    return `${keep.length.toLocaleString('en')} sessions in ${Math.round(performance.now() - t0)} ms`;
  },
  async 'pingpong-isolated'() {
    const { api: d } = await orchestrionDrivers(PINGPONG_SCXML, { mode: 'isolated' });
    const s = d.create() as Session;
    await d.settle();
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 5_000; j++) d.send(s, 'tick');
      await d.settle();
    }
    return `50,000 events in ${Math.round(performance.now() - t0)} ms`;
  },
  async privateservice() {
    const row = await benchPrivateService('fast', 20_000, 1);
    return `${row.figures.requests.toLocaleString('en')} requests at ${row.figures.requestsPerSecond.toLocaleString('en')}/s`;
  },
};

const args = process.argv.slice(2);
const targetIndex = args.indexOf('--target');
if (targetIndex >= 0) {
  // Inside the profiled process.
  console.log(await TARGETS[args[targetIndex + 1]]());
  process.exit(0);
}

const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = option('--dir') ?? mkdtempSync(path.join(os.tmpdir(), 'orchestrion-profile-'));
const top = Number(option('--top') ?? 15);
const chosen = args.filter((a, i) => !a.startsWith('--') && !['--dir', '--top'].includes(args[i - 1] ?? ''));
const self = fileURLToPath(import.meta.url);
for (const target of chosen.length ? chosen : Object.keys(TARGETS)) {
  if (!TARGETS[target]) throw new Error(`unknown target ${target} (one of ${Object.keys(TARGETS).join(', ')})`);
  const name = `${target}.cpuprofile`;
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, self, '--target', target], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${target} failed: ${r.stderr}`);
  console.log(`\n== ${target}: ${r.stdout.trim()}`);
  console.log(formatSummary(summarise(path.join(dir, name), top), top));
}
console.log(`\nprofiles in ${dir}: ${readdirSync(dir).join(', ')}`);
