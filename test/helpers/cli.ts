// Runs the built command line (dist/src/cli/main.js, compiled by test/global-setup.ts) as a user
// would: a child process with pipes, so stdout and stderr are not terminals. runInProcess calls
// the same program in the test's process, for the many cases where starting Node would dominate.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The program with collecting streams (not terminals), from the TypeScript sources. */
export async function runInProcess(args: string[]): Promise<CliResult> {
  const { run } = await import('../../src/cli/program.js');
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build with npx tsc -p tsconfig.json before these tests`);
  return runProcess(process.execPath, [MAIN, ...args], options);
}

/** Any command, with pipes, killed (SIGKILL) after timeoutMs. */
export function runProcess(command: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every stdout line parsed as JSON (throws on a line that is not). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Width and height from a PNG's IHDR chunk, after checking the 8-byte signature. */
export async function pngSize(path: string): Promise<{ width: number; height: number; bytes: number }> {
  const png = await readFile(path);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => png[i] === b)) throw new Error(`${path}: not a PNG signature`);
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error(`${path}: the first chunk is not IHDR`);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), bytes: png.length };
}
