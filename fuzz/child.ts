// One campaign over a range of cases, in a process of its own, so that the parent (fuzz/main.ts)
// sees a crash or a hang instead of dying of it. Before each case it writes the case's number to
// the progress file (a crash leaves it there); at the end it prints the tallies as one JSON line.
// argv: campaign seed start end progressFile budgetMs [--describe]
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type Campaign, caseRandom } from './common.js';
import { FORMATS, FileCampaign, type Format } from './files.js';
import { NativeCampaign } from './native.js';

export interface ChildReport {
  counts: Record<string, number>;
  failures: Array<{ case: number; message: string; input: string }>;
}

async function campaign(name: string): Promise<Campaign> {
  if (name === 'native') return new NativeCampaign();
  if ((FORMATS as readonly string[]).includes(name)) return FileCampaign.create(name as Format);
  throw new Error(`unknown campaign ${name}`);
}

async function main(): Promise<void> {
  const [name, seedText, startText, endText, progressPath, budgetText, mode] = process.argv.slice(2);
  const [seed, start, end, budget] = [seedText, startText, endText, budgetText].map(Number);
  const c = await campaign(name);
  if (mode === '--describe') {
    console.log(await c.describe(caseRandom(seed, start)));
    await c.close(true);
    return;
  }
  const progress = openSync(progressPath, 'w');
  const mark = Buffer.alloc(16);
  const report: ChildReport = { counts: {}, failures: [] };
  for (let i = start; i < end; i++) {
    mark.fill(32).write(String(i));
    writeSync(progress, mark, 0, mark.length, 0);
    const began = performance.now();
    const outcome = await c.run(caseRandom(seed, i));
    const ms = performance.now() - began;
    const failure = outcome.kind === 'failure' ? outcome.message : ms > budget ? `took ${ms.toFixed(0)} ms, over the ${budget} ms budget of one input` : null;
    if (failure) {
      report.failures.push({ case: i, message: failure, input: await c.describe(caseRandom(seed, i)) });
      report.counts.failure = (report.counts.failure ?? 0) + 1;
    } else report.counts[outcome.kind] = (report.counts[outcome.kind] ?? 0) + 1;
  }
  closeSync(progress);
  await c.close();
  console.log(JSON.stringify(report));
}

await main();
