// `npm install`'s step for the native addon. A checkout of the repository (the project being
// installed is fcnn itself) always builds from source, so edits to native/ take effect. Installed as
// a dependency, fcnn keeps the prebuilt binary it ships when that loads here, and builds from source
// (cmake-js: cmake and a C++17 compiler) only when none does, or when asked to with
// FCNN_BUILD_FROM_SOURCE=1 or `npm install --build-from-source`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function askedForSource() {
  if (/^(1|true|yes)$/i.test(process.env.FCNN_BUILD_FROM_SOURCE ?? '')) return true;
  // npm passes --build-from-source as "true", or --build-from-source=<names> as a list of package names.
  const flag = process.env.npm_config_build_from_source ?? '';
  return flag === 'true' || flag.split(',').includes('fcnn');
}

function isCheckout() {
  const projectJson = process.env.npm_package_json;
  return projectJson !== undefined && dirname(projectJson) === process.env.npm_config_local_prefix;
}

/** Why no addon loads here (found by the package's own rule, in dist/), or null when one does. */
async function addonProblem() {
  try {
    const { resolveAddon } = await import('../dist/src/addon.js');
    require(resolveAddon(root));
    return null;
  } catch (err) {
    return String(err.message).split('\n')[0];
  }
}

function buildFromSource(why) {
  console.error(`fcnn: building the native addon from source (${why}); this needs cmake and a C++17 compiler`);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const result = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

if (isCheckout()) buildFromSource('a checkout of the repository');
else if (askedForSource()) buildFromSource('asked for');
else {
  const problem = await addonProblem();
  if (problem) buildFromSource(`no prebuilt binary loads on ${platform()}-${arch()}: ${problem}`);
}
