// Shared plumbing for the W3C SCXML conformance runner and tests: where the test data lives,
// the typed manifest, and how one chart is run through the CLI and judged.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Status = 'mandatory' | 'optional' | 'manual';

/** One row of ../shared/w3c-scxml/manifest.json (see that folder's README.md). */
export interface ManifestEntry {
  id: string;
  assertion: string;
  spec: string;
  status: Status;
  conformance: 'mandatory' | 'optional';
  manual: boolean;
  /** Chart to run, relative to the w3c-scxml dir; null for the XPath-only tests. */
  file: string | null;
  txml: string | null;
  deps?: string[];
  needs: string[];
}

/** Walks up from this compiled file (dist/test/conformance/) to the directory holding package.json. */
export function findRepoRoot(start = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const repoRoot = findRepoRoot();
export const sharedDir = path.resolve(repoRoot, '..', 'shared', 'w3c-scxml');

/** The CLI under test; ORCHESTRION_CLI overrides it (used to try the runner against a fake). */
export function cliPath(): string {
  const override = process.env.ORCHESTRION_CLI;
  return override ? path.resolve(override) : path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
}

export function loadManifest(dir = sharedDir): ManifestEntry[] {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`W3C test data not found: ${file} (expected next to the repo, see docs/conformance.md)`);
  const entries = JSON.parse(readFileSync(file, 'utf8')) as ManifestEntry[];
  if (!Array.isArray(entries)) throw new Error(`${file}: expected a JSON array`);
  for (const e of entries) {
    if (typeof e.id !== 'string' || !['mandatory', 'optional', 'manual'].includes(e.status) || !Array.isArray(e.needs)) {
      throw new Error(`${file}: malformed entry ${JSON.stringify(e)}`);
    }
  }
  return entries;
}

export type Category = 'mandatory' | 'optional' | 'manual' | 'not applicable';
export const categories: readonly Category[] = ['mandatory', 'optional', 'manual', 'not applicable'];

/** XPath-only tests have no ECMAScript chart: they say nothing about this engine. */
export function categoryOf(e: ManifestEntry): Category {
  return e.file === null ? 'not applicable' : e.status;
}

export function isAutomatic(e: ManifestEntry): boolean {
  return e.file !== null && e.status !== 'manual';
}

export const NOT_APPLICABLE_REASON = 'XPath datamodel only: not applicable to an ECMAScript engine';

export function chartPath(e: ManifestEntry): string {
  if (e.file === null) throw new Error(`test ${e.id} has no chart`);
  return path.join(sharedDir, e.file);
}

/** BasicHTTP tests talk to a real HTTP server, so they need real time; everything else runs on the virtual clock. */
export const VIRTUAL_CLOCK = { clock: 'virtual', timeoutMs: 15_000 } as const;
export const REAL_CLOCK = { clock: 'real', timeoutMs: 20_000 } as const;

export function clockFor(e: ManifestEntry): typeof VIRTUAL_CLOCK | typeof REAL_CLOCK {
  return e.needs.includes('basichttp') ? REAL_CLOCK : VIRTUAL_CLOCK;
}

/** The JSON object the CLI prints as the last stdout line with --json. */
export interface CliResult {
  status: 'final' | 'idle' | 'timeout' | 'error';
  final: string | null;
  configuration: string[];
  message?: string;
}

export interface CliRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout lines before the JSON line (one per <log>, unless a logged value spans lines). */
  logs: string[];
  /** Parsed last stdout line, or null when it is missing or not JSON. */
  result: CliResult | null;
  /** Set when we had to kill the process (wall limit or runaway output). */
  killedBecause?: string;
  durationMs: number;
}

const MAX_OUTPUT = 4 * 1024 * 1024; // a chart logging in a loop must not eat the runner's memory

export interface RunCliOptions {
  /** Hard limit after which the process is killed, whatever its own --timeout says. */
  wallMs: number;
  /** Called for each complete stdout line as it arrives (lets a test react to a logged value). */
  onStdoutLine?: (line: string) => void;
}

/** Spawns `node <cli> ...args` and collects its output; never rejects for a failing chart. */
export function runCli(args: string[], opts: RunCliOptions): Promise<CliRun> {
  const cli = cliPath();
  if (!existsSync(cli)) {
    return Promise.reject(new Error(`CLI not found at ${cli}: build it with \`npx tsc -p .\` (or set ORCHESTRION_CLI)`));
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = ''; // stdout not yet ended by a newline, for onStdoutLine
    let killedBecause: string | undefined;
    const kill = (why: string) => {
      if (killedBecause === undefined) killedBecause = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`no result after ${opts.wallMs} ms, killed`), opts.wallMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_OUTPUT) kill(`more than ${MAX_OUTPUT} bytes of stdout, killed`);
      if (opts.onStdoutLine) {
        const parts = (pending + chunk).split(/\r?\n/);
        pending = parts.pop() ?? '';
        for (const line of parts) opts.onStdoutLine(line);
      }
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split(/\r?\n/);
      while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      const result = parseResult(lines[lines.length - 1]);
      const logs = result ? lines.slice(0, -1) : lines;
      resolve({ exitCode: code, stdout, stderr, logs, result, killedBecause, durationMs: Date.now() - started });
    });
  });
}

function parseResult(line: string | undefined): CliResult | null {
  if (line === undefined || !line.trimStart().startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === 'object' && 'status' in value ? (value as CliResult) : null;
  } catch {
    return null;
  }
}

/** `run <chart> --json` with the clock and timeout a test needs; the wall limit leaves the CLI time to report its own timeout. */
export function runChart(chart: string, { clock, timeoutMs }: { clock: 'real' | 'virtual'; timeoutMs: number } = VIRTUAL_CLOCK, sandbox: Sandbox = 'fast'): Promise<CliRun> {
  return runCli(['run', chart, '--json', '--clock', clock, '--timeout', String(timeoutMs), '--sandbox', sandbox], { wallMs: timeoutMs + 5_000 });
}

/** Both sandbox modes of the ECMAScript datamodel must pass every automatic chart. */
export const SANDBOXES = ['fast', 'isolated'] as const;
export type Sandbox = (typeof SANDBOXES)[number];

export type Outcome = 'pass' | 'fail' | 'error' | 'timeout' | 'n/a';

export interface TestOutcome {
  id: string;
  outcome: Outcome;
  /** One line, for anything that did not pass. */
  reason?: string;
  logs: string[];
  stderr: string;
  exitCode: number | null;
  durationMs: number;
}

/** Runs one manifest entry and judges it: pass = exit 0 and the top-level final reached is "pass". */
export async function runConformanceTest(e: ManifestEntry, sandbox: Sandbox = 'fast'): Promise<TestOutcome> {
  const base = { id: e.id, logs: [] as string[], stderr: '', exitCode: null, durationMs: 0 };
  if (e.file === null) return { ...base, outcome: 'n/a', reason: NOT_APPLICABLE_REASON };
  let run: CliRun;
  try {
    run = await runChart(chartPath(e), clockFor(e), sandbox);
  } catch (err) {
    return { ...base, outcome: 'error', reason: oneLine(err instanceof Error ? err.message : String(err)) };
  }
  const { outcome, reason } = judge(run);
  return { id: e.id, outcome, reason, logs: run.logs, stderr: run.stderr, exitCode: run.exitCode, durationMs: run.durationMs };
}

export function judge(run: CliRun): { outcome: Outcome; reason?: string } {
  const r = run.result;
  const config = r ? ` in [${(r.configuration ?? []).join(', ')}]` : '';
  if (run.killedBecause) return { outcome: 'timeout', reason: run.killedBecause };
  if (run.exitCode === 2) return { outcome: 'error', reason: `chart rejected: ${firstError(run.stderr) || 'no diagnostic on stderr'}` };
  if (!r) {
    const detail = firstError(run.stderr) || lastLine(run.stdout) || 'no output';
    return { outcome: 'error', reason: `no JSON result line (exit ${run.exitCode}): ${detail}` };
  }
  if (r.status === 'final' && r.final === 'pass') {
    return run.exitCode === 0 ? { outcome: 'pass' } : { outcome: 'fail', reason: `reached "pass" but exited ${run.exitCode}` };
  }
  switch (r.status) {
    case 'final':
      return { outcome: 'fail', reason: `reached final "${r.final}"${lastLogHint(run.logs)}` };
    case 'timeout':
      return { outcome: 'timeout', reason: `CLI timeout${config}` };
    case 'idle':
      return { outcome: 'fail', reason: `idle, no pass/fail reached${config}` };
    case 'error':
      return { outcome: 'error', reason: `runtime error: ${oneLine(r.message ?? '') || firstError(run.stderr) || 'no message'}${config}` };
    default:
      return { outcome: 'error', reason: `unexpected result ${oneLine(JSON.stringify(r))}` };
  }
}

/** The log line before "Outcome: fail" often says why (many tests log nothing else, so this is usually empty). */
function lastLogHint(logs: string[]): string {
  const other = logs.filter((l) => !l.startsWith('Outcome: '));
  return other.length > 0 ? `; last log: ${oneLine(other[other.length - 1])}` : '';
}

export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The first `error` diagnostic or thrown error (Node prints the source line of a crash first), else the first line. */
function firstError(stderr: string): string {
  const lines = stderr.split(/\r?\n/);
  return oneLine(lines.find((l) => /: error\b/.test(l)) ?? lines.find((l) => /^\w*Error\b/.test(l)) ?? firstLine(stderr));
}

function firstLine(text: string): string {
  return oneLine(text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '');
}

function lastLine(text: string): string {
  return oneLine(text.split(/\r?\n/).filter((l) => l.trim() !== '').pop() ?? '');
}
