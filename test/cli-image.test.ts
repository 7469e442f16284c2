// Images given to fcnn predict are untrusted: their declared size is checked before decoding.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { MAX_IMAGE_PIXELS, readDigitImage } from '../src/cli/image.js';
import { tempDir } from './data-fixtures.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A grayscale PNG declaring width × height whose data is one short compressed run of zeros. */
function png(width: number, height: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale, deflate, no filter, no interlace
  const idat = deflateSync(Buffer.alloc(rows * (width + 1)), { level: 9 });
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

describe('readDigitImage', () => {
  it('refuses a small file declaring a huge image, naming the file and size, before decoding it', async () => {
    // 15000 × 15000 is under sharp's own limit; 20000 × 20000 over it.
    for (const side of [15000, 20000]) {
      const path = tmp.path(`huge-${side}.png`);
      const bytes = png(side, side, 1);
      expect(bytes.length).toBeLessThan(1024);
      writeFileSync(path, bytes);
      const before = process.memoryUsage().rss;
      await expect(readDigitImage(path)).rejects.toThrow(`${path}: the image declares ${side}×${side} pixels, more than the ${MAX_IMAGE_PIXELS} accepted`);
      expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
    }
  });

  it('decodes an image up to the limit, and names the file of one it cannot decode', async () => {
    const path = tmp.path('small.png');
    writeFileSync(path, png(40, 30, 30));
    const image = await readDigitImage(path);
    expect([image.width, image.height]).toEqual([40, 30]);
    writeFileSync(tmp.path('cut.png'), png(40, 30, 30).subarray(0, 60));
    await expect(readDigitImage(tmp.path('cut.png'))).rejects.toThrow(`${tmp.path('cut.png')}: cannot decode the image (`);
  });
});
