// Writes a file so that readers see either the old file or the complete new one, never a torn
// one: a crash or a full disk mid-write must not destroy the model the user already had.
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Writes `chunks` to a temporary file beside `path`, flushes it to disk, then renames it into place. */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = dirname(path);
  // Same directory, so the rename never crosses file systems; the random part keeps concurrent
  // writers of the same path from sharing a temporary file.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx');
  try {
    try {
      for (const chunk of chunks) {
        let written = 0;
        while (written < chunk.byteLength) {
          const { bytesWritten } = await file.write(chunk, written, chunk.byteLength - written);
          written += bytesWritten;
        }
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {}); // already gone is fine: the original error is the one to report
    throw err;
  }
  await syncDirectory(dir);
}

// The rename itself lives in the directory entry: flushing the directory makes it survive a power
// loss. Windows cannot open a directory as a file, and its renames are journaled by NTFS anyway.
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
