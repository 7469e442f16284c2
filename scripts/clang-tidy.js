// `npm run tidy`: clang-tidy (.clang-tidy's checks) over every C++ file of native/ that the addon
// build compiles, with the flags that build used (build/compile_commands.json, so the addon must
// have been built: npm install or npx cmake-js compile). clang-tidy itself comes from the system
// (Debian: apt-get install clang-tidy), not from npm. Fails on any finding.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tidy = process.env.CLANG_TIDY ?? 'clang-tidy';
const database = join(root, 'build', 'compile_commands.json');

if (spawnSync(tidy, ['--version'], { stdio: 'ignore' }).error) {
  console.error(`clang-tidy: ${tidy} was not found; install it (Debian: apt-get install clang-tidy) or set CLANG_TIDY`);
  process.exit(1);
}
if (!existsSync(database)) {
  console.error(`clang-tidy: ${relative(root, database)} is missing: build the addon first (npx cmake-js compile)`);
  process.exit(1);
}
const native = join(root, 'native');
const files = [...new Set(JSON.parse(readFileSync(database, 'utf8')).map((entry) => resolve(entry.directory, entry.file)))]
  .filter((file) => file.startsWith(`${native}/`))
  .sort();

/** One clang-tidy per file, as many at once as there are cores; resolves to the failed files. */
async function runAll() {
  const failed = [];
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const file = files[next++];
      const child = spawn(tidy, ['-p', join(root, 'build'), '--quiet', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      const code = await new Promise((done) => child.on('close', done));
      if (code !== 0) {
        failed.push(relative(root, file));
        process.stdout.write(output);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), files.length) }, lane));
  return failed;
}

const failed = await runAll();
if (failed.length > 0) {
  console.error(`clang-tidy: findings in ${failed.length} of ${files.length} files: ${failed.join(', ')}`);
  process.exit(1);
}
console.error(`clang-tidy: ${files.length} files clean`);
