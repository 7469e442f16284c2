// Writes a file so that readers see either the old file or the complete new one, never a torn
// one: a crash or a full disk mid-write must not destroy the model the user already had.
// The new contents go to a temporary file beside the target, flushed to disk, renamed over the
// target, and the directory flushed. A writer killed before its rename leaves its temporary file
// behind: readers never look at it, and the next write of the same target removes the temporary
// files of writers that are no longer running.
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Writes `chunks` to a temporary file beside `path`, flushes it to disk, then renames it into place. */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = dirname(path);
  await removeStaleTemporaries(dir, basename(path));
  // Same directory, so the rename never crosses file systems; the random part keeps concurrent
  // writers of the same path from sharing a temporary file.
  const temp = join(dir, `${temporaryPrefix(basename(path))}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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

function temporaryPrefix(name: string): string {
  return `.${name}.`;
}

/**
 * Deletes the temporary files of `name` whose writer process has ended. A live writer's file is
 * kept (its pid answers); a pid reused by another process keeps a stale file until a later write.
 */
async function removeStaleTemporaries(dir: string, name: string): Promise<void> {
  const prefix = temporaryPrefix(name);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return; // the write itself reports a missing or unreadable directory
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry.slice(prefix.length));
    if (match && !isRunning(Number(match[1]))) await unlink(join(dir, entry)).catch(() => {});
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // it exists, as another user's process
  }
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
