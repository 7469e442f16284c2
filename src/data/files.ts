// Opening a data file so that every failure names the file and says what was expected there.
import { DataFormatError } from '../errors.js';
import { open, type FileHandle } from 'node:fs/promises';

/** Opens `path` for reading; `expected` ("an IDX images file") completes the messages. */
export async function openDataFile(path: string, expected: string): Promise<{ file: FileHandle; size: number }> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new DataFormatError({ file: path }, `${path}: ${why}, expected ${expected}`, { cause: err });
  }
  const stats = await file.stat();
  if (stats.isDirectory()) {
    await file.close();
    throw new DataFormatError({ file: path }, `${path}: is a directory, expected ${expected}`);
  }
  return { file, size: stats.size };
}

/** Reads into `into` from `position` until it is full; a file shorter than announced is an error. */
export async function readFully(path: string, file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  // One read moves at most 2 GiB (the libuv limit): loop, which also absorbs short reads.
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await file.read(into, done, Math.min(into.length - done, 1 << 30), position + done);
    if (bytesRead === 0)
      throw new DataFormatError(
        { file: path, offset: position + done },
        `${path}: file ended at offset ${position + done}, expected ${into.length - done} more bytes`,
      );
    done += bytesRead;
  }
}
