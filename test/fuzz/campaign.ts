// `npm run fuzz`: long fuzz campaigns. Each round runs every chosen campaign (the fuzz test files)
// with a fresh random seed and a larger run count than `npm test` does, prints the seed, and
// stops at the first failure with the command that replays it. Options:
//   --minutes <n>    how long to go on starting rounds (default 10)
//   --kinds a,b      differential, loader, runtime, service (default all)
//   --runs <n>       runs per campaign and round (default: each campaign's own, below)
//   --seed <n>       one round with this seed (replay), instead of random seeds
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const testDir = path.resolve(here, '..');

/** The campaigns and the runs of one round (several times what `npm test` runs). */
const CAMPAIGNS = {
  differential: { file: 'differential.test.js', runs: 1000, what: 'random charts against SCION, both sandbox modes' },
  loader: { file: 'fuzz-loader.test.js', runs: 3000, what: 'hostile and mutated documents through the loader and the CLI' },
  runtime: { file: 'fuzz-runtime.test.js', runs: 500, what: 'random events, payloads, delayed sends, cancels and invokes' },
  service: { file: 'fuzz-service.test.js', runs: 1500, what: 'malformed requests against the ParlayX service' },
} as const;
type Kind = keyof typeof CAMPAIGNS;

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, kinds: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' } },
});
const kinds = (values.kinds ? values.kinds.split(',') : Object.keys(CAMPAIGNS)) as Kind[];
for (const k of kinds) if (!(k in CAMPAIGNS)) throw new Error(`unknown campaign '${k}' (known: ${Object.keys(CAMPAIGNS).join(', ')})`);
const minutes = Number(values.minutes);
const runsOverride = values.runs === undefined ? undefined : Number(values.runs);

function runCampaign(kind: Kind, seed: number, runs: number): Promise<{ ok: boolean; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', path.join(testDir, CAMPAIGNS[kind].file)], {
      env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { output += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { output += c; });
    child.on('close', (code) => resolve({ ok: code === 0, output, seconds: (Date.now() - started) / 1000 }));
  });
}

const deadline = Date.now() + minutes * 60_000;
const totals = new Map<Kind, number>(kinds.map((k) => [k, 0]));
let round = 0;
console.log(`fuzz campaigns: ${kinds.join(', ')}; ${values.seed ? `seed ${values.seed}` : `${minutes} min of rounds with random seeds`}`);
do {
  round++;
  const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  for (const kind of kinds) {
    const runs = runsOverride ?? CAMPAIGNS[kind].runs;
    const result = await runCampaign(kind, seed, runs);
    console.log(`round ${round} ${kind.padEnd(12)} seed ${String(seed).padEnd(10)} ${runs} runs  ${result.ok ? 'ok' : 'FAILED'}  ${result.seconds.toFixed(1)} s`);
    if (!result.ok) {
      const failing = result.output.split('\n').filter((l) => /not ok|Counterexample|Error|error:|seed/i.test(l)).slice(0, 40).join('\n');
      console.log(`\n${failing}\n\nreplay: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} node --test dist/test/${CAMPAIGNS[kind].file}`);
      process.exit(1);
    }
    totals.set(kind, totals.get(kind)! + runs);
  }
} while (!values.seed && Date.now() < deadline);
console.log(`\n${round} round${round === 1 ? '' : 's'}, no failure: ${kinds.map((k) => `${k} ${totals.get(k)!.toLocaleString('en')} runs (${CAMPAIGNS[k].what})`).join('; ')}`);
