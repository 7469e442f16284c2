// The addon loads here; and where none can be loaded, the package still imports, every use of the
// addon throws one line saying why and what to do (the advice depends on where fcnn lives), and the
// CLI prints that line alone while --help and --version keep working.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddonUnavailableError, type AddonLoader, loadAddon, resolveAddon } from '../src/addon.js';
import { native } from '../src/native.js';
import { runCli } from './helpers/cli.js';

describe('native addon', () => {
  it('loads and runs a kernel', () => {
    expect(native.availableIsas()).toContain(native.isa());
    const x = new Float32Array([3, -4]);
    expect(native.sumSquares(x, 2)).toBe(25);
  });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('resolveAddon', () => {
  const root = mkdtempSync(join(tmpdir(), 'fcnn-resolve-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const touch = (...parts: string[]) => {
    mkdirSync(join(root, ...parts.slice(0, -1)), { recursive: true });
    writeFileSync(join(root, ...parts), '');
    return join(root, ...parts);
  };

  it('takes the prebuilt binary when nothing was built', () => {
    const prebuilt = touch('prebuilds', 'linux-x64', 'fcnn.napi.glibc.node');
    expect(resolveAddon(root)).toBe(prebuilt);
  });

  it('never takes the MPI addon for the main one', () => {
    touch('build', 'Release', 'fcnn_mpi.node');
    expect(() => resolveAddon(root)).toThrow(/no fcnn\.node in .*build\/Release and no prebuilt binary/);
  });

  it('prefers a build from source to the prebuilt binary', () => {
    const built = touch('build', 'Release', 'fcnn.node');
    expect(resolveAddon(root)).toBe(built);
  });

  it('takes the file FCNN_ADDON names, and says so when it is not there', () => {
    const other = touch('build-sanitize', 'Release', 'fcnn.node');
    const saved = process.env.FCNN_ADDON;
    try {
      process.env.FCNN_ADDON = other;
      expect(resolveAddon(root)).toBe(other);
      process.env.FCNN_ADDON = join(root, 'nowhere.node');
      expect(() => resolveAddon(root)).toThrow(`FCNN_ADDON names ${join(root, 'nowhere.node')}, which does not exist`);
    } finally {
      if (saved === undefined) delete process.env.FCNN_ADDON;
      else process.env.FCNN_ADDON = saved;
    }
  });
});

const noFile: AddonLoader = {
  resolve: () => {
    throw new Error('No native build was found for platform=linux arch=x64\n    loaded from: /x\n');
  },
  load: () => {
    throw new Error('not reached');
  },
};
const badFile: AddonLoader = {
  resolve: (root) => join(root, 'prebuilds', 'linux-x64', 'fcnn.napi.glibc.node'),
  load: () => {
    throw new Error("/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found\n(required by fcnn.node)");
  },
};

function failure(addon: { isa(): string }): Error {
  try {
    addon.isa();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the stand-in did not throw');
}

describe('without a loadable addon', () => {
  it('a checkout is told to run its build script', () => {
    const err = failure(loadAddon<{ isa(): string }>('/home/me/fcnn', noFile));
    expect(err).toBeInstanceOf(AddonUnavailableError);
    expect(err.message).toMatch(/^fcnn's native addon is missing: no prebuilt binary fits \w+-\w+ and none was built from source; /);
    expect(err.message).toContain('`npm run build:native`');
    expect(err.message).not.toContain('\n');
  });

  it('an installed package is told how to rebuild it from source through npm', () => {
    const err = failure(loadAddon<{ isa(): string }>('/srv/app/node_modules/fcnn', noFile));
    expect(err.message).toContain('`FCNN_BUILD_FROM_SOURCE=1 npm rebuild fcnn`');
    expect(err.message).not.toContain('build:native');
  });

  it('a binary that does not load names itself and the first line of the reason', () => {
    const err = failure(loadAddon<{ isa(): string }>('/srv/app/node_modules/fcnn', badFile));
    expect(err.message).toContain('/srv/app/node_modules/fcnn/prebuilds/linux-x64/fcnn.napi.glibc.node does not load here');
    expect(err.message).toContain("GLIBCXX_3.4.32' not found");
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toContain('required by');
  });

  // node-gyp-build looks for the addon under $FCNN_PREBUILD instead of the package when it is set.
  const empty = mkdtempSync(join(tmpdir(), 'fcnn-no-addon-'));
  const env = { ...process.env, FCNN_PREBUILD: empty, FCNN_ADDON: '' };
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('the CLI prints one line and exits 1 for a command that needs the addon', async () => {
    const r = await runCli(['train', '--epochs', '1', '--limit', '100'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^fcnn: fcnn's native addon is missing: .*`npm run build:native`.*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('--help and --version still work', async () => {
    const help = await runCli(['train', '--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: fcnn train');
    const version = await runCli(['--version'], { env });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((await import('../package.json', { with: { type: 'json' } })).default.version);
  });
});
