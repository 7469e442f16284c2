// fcnn train --report: real PNG files (signature and IHDR read here), the SVGs they were drawn
// from, and an index.html that shows every chart beside the run's configuration.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, pngSize, runCli } from './helpers/cli.js';

const CHARTS = ['loss', 'accuracy', 'activations', 'gradients', 'confusion'];

describe('fcnn train --report', () => {
  let dir: string;
  let run: CliResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcnn-report-'));
    run = await runCli(['train', '--limit', '1000', '--epochs', '3', '--workers', '0', '--report', join(dir, 'report')]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finishes and says where the report is', () => {
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`wrote the report to ${join(dir, 'report')}/index.html`);
    expect(run.stderr).not.toMatch(/warning: no font/);
  });

  it.each(CHARTS)('%s.png is a non-empty PNG of a sensible size', async (chart) => {
    const { width, height, bytes } = await pngSize(join(dir, 'report', `${chart}.png`));
    expect(bytes).toBeGreaterThan(5000);
    expect(width).toBeGreaterThanOrEqual(400);
    expect(height).toBeGreaterThanOrEqual(300);
    expect(width).toBeLessThan(6000);
    expect(height).toBeLessThan(6000);
  });

  it.each(CHARTS)('%s.svg is the drawing the PNG came from, text included', async (chart) => {
    const svg = await readFile(join(dir, 'report', `${chart}.svg`), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(svg).toMatch(/<text[^>]*>[^<]+<\/text>/);
    // The PNG is the SVG at twice its size.
    const [, w, h] = /<svg[^>]* width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg)!;
    const png = await pngSize(join(dir, 'report', `${chart}.png`));
    expect(png.width).toBe(Math.round(2 * Number(w)));
    expect(png.height).toBe(Math.round(2 * Number(h)));
  });

  it('the histograms show every layer at the first and the last epoch', async () => {
    for (const chart of ['activations', 'gradients']) {
      const svg = await readFile(join(dir, 'report', `${chart}.svg`), 'utf8');
      for (const label of ['layer 1 (relu)', 'layer 2 (softmax)', 'epoch 1', 'epoch 3']) expect(svg).toContain(label);
      expect(svg).not.toContain('epoch 2');
    }
  });

  it('index.html shows every chart and the configuration', async () => {
    const html = await readFile(join(dir, 'report', 'index.html'), 'utf8');
    for (const chart of CHARTS) {
      expect(html).toContain(`<img src="${chart}.png"`);
      expect(html).toContain(`<a href="${chart}.svg">`);
    }
    expect(html).toMatch(/<th>layers<\/th><td>784-128-10<\/td>/);
    expect(html).toMatch(/<th>epochs<\/th><td>3<\/td>/);
    expect(html).toMatch(/<th>preset<\/th><td>recommended<\/td>/);
  });
});
