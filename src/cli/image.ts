// A photo or drawing of a digit made to look like an MNIST sample, the way MNIST itself was made:
// grayscale, white digit on black (a mostly light image is inverted), the digit's bounding box
// scaled to fit 20×20 and placed in a 28×28 frame with its centre of mass at the centre.
import type Sharp from 'sharp';
import type { OutputInfo } from 'sharp';
import { DataFormatError } from '../errors.js';
import { importOptional } from '../util/optional.js';

const SIDE = 28;
const BOX = 20;
/** Pixels above this (after inversion) belong to the digit when finding its bounding box. */
const INK = 32;

export interface DigitImage {
  /** SIDE × SIDE pixels, 0 = background. */
  pixels: Uint8Array;
  /** True when the image was mostly light and was inverted. */
  inverted: boolean;
  width: number;
  height: number;
}

/**
 * The most pixels an input image may declare: a 24-megapixel photo. The size is read from the
 * header before anything is decoded, so a small file declaring a huge image cannot take the
 * gigabytes its decoding would.
 */
export const MAX_IMAGE_PIXELS = 24_000_000;

export async function readDigitImage(path: string): Promise<DigitImage> {
  const [{ default: sharp }] = await importOptional<[{ default: typeof Sharp }]>(['sharp'], 'reading pictures');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    const { width = 0, height = 0 } = await sharp(path, { limitInputPixels: false }).metadata();
    if (width * height > MAX_IMAGE_PIXELS)
      throw new DataFormatError({ file: path }, `${path}: the image declares ${width}×${height} pixels, more than the ${MAX_IMAGE_PIXELS} accepted`);
    // Transparent pixels become white: a digit drawn on a transparent canvas is dark on light.
    decoded = await sharp(path, { limitInputPixels: MAX_IMAGE_PIXELS })
      .flatten({ background: '#ffffff' })
      .grayscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    throw new DataFormatError({ file: path }, `${path}: cannot decode the image (${(err as Error).message})`, { cause: err });
  }
  const { width, height } = decoded.info;
  const gray = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, width * height);
  let sum = 0;
  for (const v of gray) sum += v;
  const inverted = sum / gray.length > 127;
  if (inverted) for (let i = 0; i < gray.length; i++) gray[i] = 255 - gray[i];

  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (gray[y * width + x] > INK) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  const pixels = new Uint8Array(SIDE * SIDE);
  if (x1 < 0) return { pixels, inverted, width, height }; // blank: nothing to centre

  const box = await sharp(gray, { raw: { width, height, channels: 1 } })
    .extract({ left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 })
    .resize(BOX, BOX, { fit: 'inside', kernel: 'lanczos3' })
    .toColourspace('b-w') // one channel out, as went in (sharp widens raw input to sRGB otherwise)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const bw = box.info.width;
  const bh = box.info.height;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < bh; y++)
    for (let x = 0; x < bw; x++) {
      const v = box.data[y * bw + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  const left = clamp(Math.round((SIDE - 1) / 2 - (mass ? mx / mass : (bw - 1) / 2)), 0, SIDE - bw);
  const top = clamp(Math.round((SIDE - 1) / 2 - (mass ? my / mass : (bh - 1) / 2)), 0, SIDE - bh);
  for (let y = 0; y < bh; y++) pixels.set(box.data.subarray(y * bw, (y + 1) * bw), (top + y) * SIDE + left);
  return { pixels, inverted, width, height };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
