// Shared plumbing of the bench/ scripts: repeated timing with medians, a human table or
// one JSON object per line (--json), so that every benchmark reports the same way.

export interface BenchOptions {
  json: boolean;
  /** Repetitions whose median is reported. */
  repeats: number;
}

export function parseBenchArgs(argv: string[] = process.argv.slice(2)): BenchOptions & { args: string[] } {
  const json = argv.includes('--json');
  const r = argv.indexOf('--repeats');
  const repeats = r >= 0 ? Number(argv[r + 1]) : 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`--repeats must be a positive integer, got ${argv[r + 1]}`);
  return { json, repeats, args: argv };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Which clock a timing reads. CPU time (this process's user + system) leaves out the time other
 * processes take the core away on a shared machine; on an idle machine the two agree. It suits
 * single-threaded measurements only.
 */
export type Clock = 'wall' | 'cpu';

function now(clock: Clock): number {
  if (clock === 'wall') return Number(process.hrtime.bigint()) / 1e9;
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

/**
 * Seconds per call of fn over calls lasting at least `minSeconds` together. Calls are grouped so that
 * reading the clock costs nothing even for calls of a few microseconds.
 */
export function secondsPerCall(fn: () => void, clock: Clock = 'wall', minSeconds = 0.05): number {
  let calls = 0;
  let group = 1;
  const start = now(clock);
  for (;;) {
    for (let i = 0; i < group; i++) fn();
    calls += group;
    const seconds = now(clock) - start;
    if (seconds >= minSeconds) return seconds / calls;
    if (seconds < minSeconds / 20) group *= 2;
  }
}

/** Seconds per call of fn: median over `repeats` timings, after one warm-up call. */
export function timePerCall(fn: () => void, repeats: number, clock: Clock = 'wall'): number {
  fn(); // warm-up: first-touch of buffers, lazy allocations
  return median(Array.from({ length: repeats }, () => secondsPerCall(fn, clock)));
}

/**
 * Floating-point work of the matrix products of one training sample: per dense layer 2·in·out for
 * the forward product and 2·in·out for the weight gradient, plus 2·in·out for the input gradient of
 * every layer but the first (nothing needs the gradient of the data). The usual 6 × weights
 * over-counts by that first input gradient: for 784-128-10, 6 × weights is 1.5× this.
 */
export function gemmFlopsPerSample(layers: number[]): number {
  let flops = 0;
  for (let i = 0; i + 1 < layers.length; i++) flops += 2 * layers[i] * layers[i + 1] * (i === 0 ? 2 : 3);
  return flops;
}

export type Row = Record<string, string | number | boolean>;

/** Prints rows as an aligned table, or as JSON lines when json is set. */
export function report(rows: Row[], json: boolean, out: (line: string) => void = (l) => console.log(l)): void {
  if (json) {
    for (const row of rows) out(JSON.stringify(row));
    return;
  }
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]).filter((k) => k !== 'bench');
  const cell = (v: Row[string]) => (typeof v === 'number' ? formatNumber(v) : String(v));
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  out(keys.map((k, i) => k.padStart(widths[i])).join('  '));
  for (const row of rows) out(keys.map((k, i) => cell(row[k]).padStart(widths[i])).join('  '));
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** The machine, for the record printed beside the numbers. */
export async function machineDescription(): Promise<string> {
  const os = await import('node:os');
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}
