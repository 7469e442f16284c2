// Worker threads (the data-parallel trainer, off-thread inference) load the compiled dist/, not the
// TypeScript the tests import: compile it before any test runs, so that one test file run alone
// tests the current source. tsc is incremental (tsconfig.json), so an unchanged tree costs little.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Every project of the config gets this setup: one compile per test run is enough. */
const DONE = Symbol.for('fcnn.test.compiled');

export default function setup(): void {
  const state = globalThis as { [DONE]?: boolean };
  if (state[DONE]) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  state[DONE] = true;
}
