// Finds and loads the compiled addon: a build from source (build/Release) when there is one, else the
// prebuilt binary shipped in prebuilds/<platform>-<arch>/ that fits this platform (node-gyp-build
// chooses). When none loads, importing the package still works (so `fcnn --help` does) and the
// first call into the addon throws an AddonUnavailableError: one line saying why and what to do.
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { packageRoot } from './util/package.js';

/** Resolves (node-gyp-build's `path`) and loads an addon found under a package root. */
export interface AddonLoader {
  resolve(root: string): string;
  load(path: string): unknown;
}

const require = createRequire(import.meta.url);

export class AddonUnavailableError extends Error {
  override name = 'AddonUnavailableError';
}

/**
 * build/Release/fcnn.node when it was built from source, else the prebuilt binary node-gyp-build picks
 * for this platform. node-gyp-build alone would take any .node file in build/Release, and the build
 * may also hold the MPI addon: a build/Release without fcnn.node is a failed build, not a prebuilt.
 * FCNN_PREBUILD, node-gyp-build's override, replaces the package root.
 */
export function resolveAddon(root: string): string {
  // FCNN_ADDON names another build of the addon (CI runs the tests on a sanitizer build with it).
  const override = process.env.FCNN_ADDON;
  if (override) {
    if (!existsSync(override)) throw new AddonUnavailableError(`FCNN_ADDON names ${override}, which does not exist`);
    return override;
  }
  const dir = process.env.FCNN_PREBUILD || root;
  const built = join(dir, 'build', 'Release', 'fcnn.node');
  if (existsSync(built)) return built;
  const found = (require('node-gyp-build') as { path(dir: string): string }).path(dir);
  if (!relative(join(dir, 'prebuilds'), found).startsWith('..')) return found;
  throw new Error(`no fcnn.node in ${join(dir, 'build', 'Release')} and no prebuilt binary for this platform`);
}

const nodeGypBuild: AddonLoader = { resolve: resolveAddon, load: (path) => require(path) };

/**
 * What to do about a missing addon: an installed package (inside node_modules) rebuilds through npm,
 * a checkout of the repository builds with its own script.
 */
export function addonAdvice(root: string): string {
  const installed = root.split(sep).includes('node_modules');
  return installed
    ? 'to build it from source, put cmake and a C++17 compiler on the PATH and run `FCNN_BUILD_FROM_SOURCE=1 npm rebuild fcnn`'
    : 'build it with `npm run build:native` (needs cmake and a C++17 compiler)';
}

/**
 * The addon under `root`, or, when none loads, an object whose every property throws the reason.
 * The error's message is one line: the CLI prints it as it is.
 */
export function loadAddon<T extends object>(root = packageRoot(), loader: AddonLoader = nodeGypBuild): T {
  let path: string;
  try {
    path = loader.resolve(root);
  } catch (err) {
    if (err instanceof AddonUnavailableError) return unavailable(err.message);
    return unavailable(`fcnn's native addon is missing: no prebuilt binary fits ${platform()}-${arch()} and none was built from source; ${addonAdvice(root)}`);
  }
  try {
    return loader.load(path) as T;
  } catch (err) {
    const reason = String((err as Error).message ?? err).split('\n')[0];
    return unavailable(`fcnn's native addon ${path} does not load here (${reason}); ${addonAdvice(root)}`);
  }
}

/**
 * Stands in for the addon: every function throws the reason when called. Reading a function is
 * allowed, since modules keep tables of the addon's functions when they load; `then` is absent, so
 * that the stand-in is not taken for a promise.
 */
function unavailable<T extends object>(message: string): T {
  const fail = (): never => {
    throw new AddonUnavailableError(message);
  };
  return new Proxy({} as T, { get: (_, key) => (key === 'then' || typeof key === 'symbol' ? undefined : fail) });
}
