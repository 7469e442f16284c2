// `npm pack`'s step: puts the addon just built (build/Release/fcnn.node) in the tarball as the prebuilt
// binary for this platform, where node-gyp-build looks for it: prebuilds/<platform>-<arch>/, named by
// its tags (Node-API, so any Node version; on Linux the C library it links against).
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'build', 'Release', 'fcnn.node');
if (!existsSync(built)) {
  console.error(`fcnn: ${built} is missing: run \`npm run build:native\` first`);
  process.exit(1);
}
const libc = platform() === 'linux' ? (existsSync('/etc/alpine-release') ? '.musl' : '.glibc') : '';
const dir = join(root, 'prebuilds', `${platform()}-${arch()}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
copyFileSync(built, join(dir, `fcnn.napi${libc}.node`));
console.error(`fcnn: packed ${join('prebuilds', `${platform()}-${arch()}`, `fcnn.napi${libc}.node`)}`);
