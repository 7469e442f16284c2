import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

// The GEMM tests run once per ISA this CPU supports, FCNN_ISA choosing the micro-kernel the addon
// loads with (and with it the bf16 kernel: vdpbf16ps or emulated); every other test file runs
// once, on the default (best) ISA. test/pack.test.ts (npm pack, which rewrites dist/ under the
// other tests' feet, and offline installs) runs alone: `npm run test:pack`, with vitest.pack.config.ts.
const PER_ISA = ['test/gemm.test.ts', 'test/gemm-bf16.test.ts'];
const PACK = 'test/pack.test.ts';

function supportedIsas(): string[] {
  try {
    return (createRequire(import.meta.url)('./build/Release/fcnn.node') as { availableIsas(): string[] }).availableIsas();
  } catch {
    return []; // not built, or FCNN_ISA is bad: the tests, run once, report it
  }
}
const isas = supportedIsas();

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'fcnn', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, PACK, ...(isas.length ? PER_ISA : [])] },
      },
      ...isas.map((isa) => ({ extends: true as const, test: { name: `gemm-${isa}`, include: PER_ISA, env: { FCNN_ISA: isa } } })),
    ],
  },
});
