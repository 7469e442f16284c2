// Loading speed and memory of the data layer: the bundled MNIST (IDX, 60000 + 10000 samples) and
// the same images as a 42000-row Kaggle-style CSV. Each load runs in a fresh child process, so
// that its peak resident memory is its own and not the high-water mark of an earlier one.
//   npm run bench:data [-- --repeats 5] [-- --json]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadCsv, loadMnist, takeFirst, writeCsv } from '../src/data/index.js';
import { machineDescription, median, parseBenchArgs, report, type Row } from './common.js';

const KAGGLE_ROWS = 42000;
/** The four uncompressed MNIST files: (60000 + 10000)·(784 + 1) bytes plus 48 bytes of headers. */
const MNIST_IDX_MIB = (70000 * 785 + 48) / 2 ** 20;
/** Samples each child must report, checked before any time is believed. */
const EXPECTED_ROWS = { baseline: 0, idx: 70000, csv: KAGGLE_ROWS } as const;
type Format = keyof typeof EXPECTED_ROWS;
const FORMATS = Object.keys(EXPECTED_ROWS) as Format[];

interface ChildResult {
  rows: number;
  seconds: number;
  /** User + system CPU time of the load: on a busy machine it moves less than the wall time. */
  cpuSeconds: number;
  peakRssMiB: number;
}

/**
 * Median load time and peak RSS per format over `repeats` child processes. 'baseline' loads
 * nothing: Node with the addon and the data module imported, the floor under the other two.
 */
export async function benchData(repeats: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fcnn-bench-data-'));
  try {
    const csvPath = join(dir, 'train.csv');
    await writeCsv(takeFirst((await loadMnist()).train, KAGGLE_ROWS), csvPath);
    const rows: Row[] = [];
    for (const format of FORMATS) {
      const results: ChildResult[] = [];
      for (let r = 0; r < repeats; r++) {
        const result = await runChild(format, csvPath);
        if (result.rows !== EXPECTED_ROWS[format]) throw new Error(`${format}: loaded ${result.rows} samples, expected ${EXPECTED_ROWS[format]}`);
        results.push(result);
      }
      rows.push({
        bench: 'data',
        format,
        rows: EXPECTED_ROWS[format],
        seconds: median(results.map((x) => x.seconds)),
        cpuSeconds: median(results.map((x) => x.cpuSeconds)),
        peakRssMiB: median(results.map((x) => x.peakRssMiB)),
        fileMiB: format === 'csv' ? statSync(csvPath).size / 2 ** 20 : format === 'idx' ? MNIST_IDX_MIB : 0,
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runChild(format: Format, csvPath: string): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), '--child', format, csvPath]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

/** One load, then its time and this process's peak memory on stdout. */
async function child(format: Format, csvPath: string): Promise<void> {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let rows = 0;
  if (format === 'idx') {
    const { train, test } = await loadMnist();
    rows = train.count + test.count;
  } else if (format === 'csv') {
    rows = (await loadCsv(csvPath)).count;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const result: ChildResult = { rows, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: peakRssMiB() };
  console.log(JSON.stringify(result));
}

/**
 * This process's peak resident memory. On Linux, getrusage's maxRSS (process.resourceUsage())
 * survives execve, so a child forked from a parent holding MNIST would report the parent's peak;
 * VmHWM belongs to the memory map the exec created, so it is the child's own.
 */
function peakRssMiB(): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // Not Linux: fall through to getrusage.
  }
  return process.resourceUsage().maxRSS / 1024; // KiB
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const c = argv.indexOf('--child');
  if (c >= 0) return child(argv[c + 1] as Format, argv[c + 2]);
  const { json, repeats } = parseBenchArgs(argv);
  if (!json) console.log(`data loading, median of ${repeats} fresh processes each; ${await machineDescription()}`);
  report(await benchData(repeats), json);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
