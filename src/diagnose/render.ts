// Charts as files: a Vega-Lite spec is compiled to Vega, laid out by a headless Vega view into SVG,
// and rasterized to PNG by resvg. Text needs a font file on disk (resvg draws no text without one),
// so the fonts are looked up once and a missing font is reported rather than silently dropped.
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

export type ChartSpec = vegaLite.TopLevelSpec;

/** The family the charts ask for, and the files that provide it, preferred first. */
const FAMILY = 'DejaVu Sans';
const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts')];
const FONT_FILE = /\.(ttf|otf|ttc)$/i;
/** PNG pixels per SVG pixel: sharp enough for a README at the SVG's layout size. */
const PNG_SCALE = 2;

/** Settings every chart shares: the font that will be found, a white background, some padding. */
const CHART_CONFIG = {
  font: FAMILY,
  background: 'white',
  padding: 12,
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

interface Fonts {
  files: string[];
  /** FAMILY when its files are there; otherwise resvg falls back to the first file's family. */
  family: string | undefined;
  warning: string | null;
}

let fontCache: Fonts | null = null;

/** The DejaVu Sans files when present, else every font file found; a warning when there are none. */
export function fonts(): Fonts {
  if (fontCache) return fontCache;
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (FONT_FILE.test(entry.name)) files.push(path);
    }
  };
  FONT_DIRS.forEach((dir) => walk(dir, 0));
  const dejavu = files.filter((f) => /DejaVuSans(-Bold)?\.ttf$/.test(f));
  const warning = files.length
    ? null
    : `no font files found under ${FONT_DIRS.join(', ')}: the charts' text will be missing from the PNGs (install a font package, e.g. fonts-dejavu-core)`;
  fontCache = dejavu.length ? { files: dejavu, family: FAMILY, warning } : { files, family: undefined, warning };
  return fontCache;
}

export interface Rendered {
  svg: string;
  png: Buffer;
}

export async function renderChart(spec: ChartSpec): Promise<Rendered> {
  const compiled = vegaLite.compile({ ...spec, config: { ...CHART_CONFIG, ...spec.config } } as ChartSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const { files, family } = fonts();
    const resvg = new Resvg(svg, {
      font: { fontFiles: files, loadSystemFonts: false, defaultFontFamily: family, sansSerifFamily: family },
      fitTo: { mode: 'zoom', value: PNG_SCALE },
      background: 'white',
    });
    return { svg, png: resvg.render().asPng() };
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
