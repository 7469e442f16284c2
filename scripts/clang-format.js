// `npm run lint` and `npm run format` for the C++: clang-format (the binary that the clang-format-node
// package ships, so `npm ci` is all it needs) over every source file under native/, with the style
// of .clang-format. --check fails on a file that is not formatted and changes nothing; --write
// formats the files in place.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { clangFormatPath } = require('clang-format-node');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: node scripts/clang-format.js --check | --write');
  process.exit(2);
}
const files = readdirSync(join(root, 'native'), { recursive: true })
  .filter((f) => /\.(cc|h|hpp)$/.test(f))
  .sort()
  .map((f) => join('native', f));
const args = mode === '--check' ? ['--dry-run', '--Werror'] : ['-i'];
const run = spawnSync(clangFormatPath, ['--style=file', ...args, ...files], { cwd: root, stdio: 'inherit' });
if (run.error) {
  console.error(`clang-format: ${run.error.message}`);
  process.exit(1);
}
if (run.status !== 0 && mode === '--check') console.error('clang-format: run `npm run format` to format the C++ files above');
process.exit(run.status ?? 1);
