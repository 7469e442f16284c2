// npm run fuzz [-- --quick] [--seed N] [--only native,csv] [--native CALLS] [--mutations N] [--case I]
//
// Hostile input, measured: the native campaign calls every addon function with random and
// adversarial arguments; the file campaigns load mutated IDX, CSV, safetensors and PNG files and
// export mutated models to ONNX. Each campaign runs in a child process (fuzz/child.ts): a crash
// or a hang (no progress within the hang limit) is reported with the case's number and input, and
// the campaign goes on after it. Every case has its own generator derived from the seed, so
// `--seed S --only C --case I` replays case I alone. Exits 1 when any case failed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ChildReport } from './child.js';
import { FORMATS } from './files.js';

const CAMPAIGNS = ['native', ...FORMATS];
const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
/** A failing input is reported, the run goes on, up to this many failures per campaign. */
const MAX_FAILURES = 10;

interface Options {
  seed: number;
  only: string[];
  native: number;
  mutations: number;
  replay: number | null;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  const count = (flag: string, fallback: number) => {
    const v = value(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got ${v}`);
    return n;
  };
  const only = (value('--only') ?? CAMPAIGNS.join(',')).split(',');
  for (const c of only) if (!CAMPAIGNS.includes(c)) throw new Error(`--only: unknown campaign ${c}; the campaigns are ${CAMPAIGNS.join(', ')}`);
  const replay = value('--case') === undefined ? null : count('--case', 0);
  if (replay !== null && only.length !== 1) throw new Error('--case needs --only with one campaign');
  return {
    seed: count('--seed', Math.floor(Math.random() * 2 ** 31)),
    only,
    native: count('--native', quick ? 4000 : 110_000),
    mutations: count('--mutations', quick ? 150 : 10_500),
    replay,
  };
}

/** Per input: the most a case may take, and how long without progress counts as a hang. */
const LIMITS: Record<string, { budgetMs: number; hangMs: number }> = {
  native: { budgetMs: 1000, hangMs: 10_000 },
  files: { budgetMs: 3000, hangMs: 20_000 },
};

interface ChildResult {
  report: ChildReport | null;
  /** Whether the child reached its first case (a campaign that cannot start is reported once). */
  started?: boolean;
  /** When the child did not finish: the case it was on and why it stopped. */
  stoppedAt?: number;
  reason?: string;
}

function runChild(name: string, seed: number, start: number, end: number, dir: string, describe = false): Promise<ChildResult> {
  const limits = name === 'native' ? LIMITS.native : LIMITS.files;
  const progressFile = join(dir, `${name}-${start}.progress`);
  const args = [CHILD, name, String(seed), String(start), String(end), progressFile, String(limits.budgetMs), ...(describe ? ['--describe'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const position = () => {
    try {
      return Number(readFileSync(progressFile, 'utf8').trim());
    } catch {
      return start;
    }
  };
  let hung = false;
  let last = -1;
  let since = performance.now();
  const watchdog = setInterval(() => {
    const at = position();
    if (at !== last) [last, since] = [at, performance.now()];
    else if (performance.now() - since > limits.hangMs) {
      hung = true;
      child.kill('SIGKILL');
    }
  }, 250);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      if (describe) return resolve({ report: null, reason: code === 0 ? stdout.trim() : `(describing it failed: ${stderr.trim() || signal})` });
      if (code === 0 && !hung) return resolve({ report: JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport });
      const reason = hung
        ? `hung: no progress for ${limits.hangMs / 1000} s`
        : `the process died (${signal ? `signal ${signal}` : `exit code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-6).join(' | ')}` : ''}`;
      resolve({ report: null, stoppedAt: position(), reason, started: existsSync(progressFile) });
    });
  });
}

async function runCampaign(
  name: string,
  total: number,
  seed: number,
  dir: string,
): Promise<{ counts: Record<string, number>; failures: ChildReport['failures'] }> {
  const counts: Record<string, number> = {};
  const failures: ChildReport['failures'] = [];
  let next = 0;
  while (next < total && failures.length < MAX_FAILURES) {
    const result = await runChild(name, seed, next, total, dir);
    if (result.report) {
      for (const [k, v] of Object.entries(result.report.counts)) counts[k] = (counts[k] ?? 0) + v;
      failures.push(...result.report.failures);
      break;
    }
    if (!result.started) {
      failures.push({ case: next, message: `the campaign did not start: ${result.reason}`, input: '(none)' });
      counts.failure = (counts.failure ?? 0) + 1;
      break;
    }
    const at = result.stoppedAt!;
    // The tallies of the cases before the crash died with the process; they ran without failing.
    counts['passed before a crash'] = (counts['passed before a crash'] ?? 0) + (at - next);
    counts.failure = (counts.failure ?? 0) + 1;
    const input = (await runChild(name, seed, at, at + 1, dir, true)).reason!;
    failures.push({ case: at, message: result.reason!, input });
    next = at + 1;
  }
  return { counts, failures };
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`fuzz: ${(err as Error).message}`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fcnn-fuzz-'));
  const { seed } = options;
  console.log(`fuzz: seed ${seed} (replay with --seed ${seed})`);
  let failed = 0;
  try {
    if (options.replay !== null) {
      const [name] = options.only;
      const i = options.replay;
      console.log(`case ${i} of ${name}: ${(await runChild(name, seed, i, i + 1, dir, true)).reason}`);
      const result = await runChild(name, seed, i, i + 1, dir);
      const failure = result.report?.failures[0]?.message ?? result.reason;
      console.log(failure ? `FAILED: ${failure}` : `passed: ${JSON.stringify(result.report!.counts)}`);
      process.exitCode = failure ? 1 : 0;
      return;
    }
    for (const name of options.only) {
      const total = name === 'native' ? options.native : options.mutations;
      const began = performance.now();
      const { counts, failures } = await runCampaign(name, total, seed, dir);
      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      const ran = Object.values(counts).reduce((a, b) => a + b, 0);
      const tally = Object.entries(counts)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      console.log(`${name}: ${ran} ${name === 'native' ? 'calls' : 'inputs'} in ${seconds} s (${tally}); ${failures.length} failed`);
      for (const f of failures) console.log(`  FAILED case ${f.case} (--seed ${seed} --only ${name} --case ${f.case}): ${f.message}\n    input: ${f.input}`);
      failed += failures.length;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) {
    console.log(`fuzz: ${failed} failing case(s)`);
    process.exitCode = 1;
  }
}

await main();
