import type { Engine, EngineSetup } from '../engine.js';

export class DataParallelEngine {
  static async create(_setup: EngineSetup, _workers: number): Promise<Engine> {
    throw new Error('the data-parallel engine is not built yet; pass workers: 0');
  }
}
