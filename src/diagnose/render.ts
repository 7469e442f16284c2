// Charts as files: a Vega-Lite spec is compiled to Vega, laid out by a headless Vega view into SVG,
// and rasterized to PNG by sharp (librsvg, which finds its fonts through fontconfig). The three are
// optional packages, loaded on the first chart. A machine without any font file would get PNGs
// without text: that is reported rather than silently dropped.
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Sharp from 'sharp';
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import { importOptional } from '../util/optional.js';

export type ChartSpec = VegaLite.TopLevelSpec;

/** The family the charts ask for; fontconfig substitutes another sans-serif face where it is absent. */
const FAMILY = 'DejaVu Sans';
const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts')];
const FONT_FILE = /\.(ttf|otf|ttc)$/i;
/** PNG pixels per SVG pixel: sharp enough for a README at the SVG's layout size. */
const PNG_SCALE = 2;
/** sharp reads an SVG at 72 dpi as one PNG pixel per SVG pixel: a multiple of that scales the PNG. */
const PNG_DENSITY = 72 * PNG_SCALE;

/** Settings every chart shares: the font, a white background, some padding. */
const CHART_CONFIG = {
  font: FAMILY,
  background: 'white',
  padding: 12,
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

let fontWarningCache: string | null | undefined;

/** A warning when no font file is found in the usual folders (the charts' text would be missing), else null. */
export function fontWarning(): string | null {
  if (fontWarningCache !== undefined) return fontWarningCache;
  const hasFont = (dir: string, depth: number): boolean =>
    depth <= 4 &&
    existsSync(dir) &&
    readdirSync(dir, { withFileTypes: true }).some((entry) => (entry.isDirectory() ? hasFont(join(dir, entry.name), depth + 1) : FONT_FILE.test(entry.name)));
  fontWarningCache = FONT_DIRS.some((dir) => hasFont(dir, 0))
    ? null
    : `no font files found under ${FONT_DIRS.join(', ')}: the charts' text will be missing from the PNGs (install a font package, e.g. fonts-dejavu-core)`;
  return fontWarningCache;
}

type ChartLibraries = [typeof Vega, typeof VegaLite, { default: typeof Sharp }];
let libraries: Promise<ChartLibraries> | undefined;

/** vega, vega-lite and sharp, loaded once; a MissingPackageError names those that are not installed. */
export function chartLibraries(): Promise<ChartLibraries> {
  libraries ??= importOptional<ChartLibraries>(['vega', 'vega-lite', 'sharp'], "drawing the report's charts");
  libraries.catch(() => (libraries = undefined));
  return libraries;
}

export interface Rendered {
  svg: string;
  png: Buffer;
}

export async function renderChart(spec: ChartSpec): Promise<Rendered> {
  const [vega, vegaLite, { default: sharp }] = await chartLibraries();
  const compiled = vegaLite.compile({ ...spec, config: { ...CHART_CONFIG, ...spec.config } } as ChartSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density: PNG_DENSITY }).flatten({ background: 'white' }).png().toBuffer();
    return { svg, png };
  } finally {
    view.finalize();
  }
}

/** Writes `base`.svg and `base`.png; returns their file names. */
export async function writeChart(dir: string, base: string, spec: ChartSpec): Promise<{ svg: string; png: string }> {
  const { svg, png } = await renderChart(spec);
  await writeFile(join(dir, `${base}.svg`), svg);
  await writeFile(join(dir, `${base}.png`), png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}
