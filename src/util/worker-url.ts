// Worker threads run JavaScript only. Under vitest the library's modules are the TypeScript
// sources in src/, so a worker file next to them must be taken from its compiled twin in dist/
// (`npx tsc -p tsconfig.json` builds it; the tests' global setup runs tsc first). In the package the caller is
// already compiled and the worker file sits beside it.
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the worker module `name` (e.g. './inference-worker.js') next to the module
 * whose import.meta.url is `moduleUrl`, as a file worker threads can run.
 */
export function workerFile(moduleUrl: string, name: string): string {
  const beside = fileURLToPath(new URL(name, moduleUrl));
  if (!fileURLToPath(moduleUrl).endsWith('.ts')) return beside;
  const root = packageRoot(dirname(beside));
  const compiled = join(root, 'dist', relative(root, beside));
  if (!existsSync(compiled)) throw new Error(`fcnn: worker threads need the compiled ${compiled}; run \`npx tsc -p tsconfig.json\` first`);
  return compiled;
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`fcnn: no package.json above ${from}`);
  }
}
