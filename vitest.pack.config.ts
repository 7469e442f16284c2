import { defineConfig } from 'vitest/config';

// The pack-and-install test alone (see vitest.config.ts): it packs, installs three times and trains.
export default defineConfig({
  test: { include: ['test/pack.test.ts'], testTimeout: 300_000, hookTimeout: 600_000 },
});
