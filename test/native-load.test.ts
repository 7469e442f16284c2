import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';

describe('native addon', () => {
  it('loads and exposes its functions', () => {
    expect(typeof native).toBe('object');
  });
});
