// CSV files. Integer pixels take a fast path: the Kaggle "digit recognizer" layout (label,pixel0,…,
// pixel783; its test.csv has no label column) and any CSV whose cells are integers 0–255 with a
// label column chosen by name or index are read in chunks and their bytes parsed straight into the
// uint8 pixel array: no string per line or per cell, so a 42000-row file costs its pixels and one
// chunk. Every other CSV (float cells, quotes, class names, several targets, another delimiter, no
// header) goes to the general reader of csv-table.ts, which the fast path also hands a file to as
// soon as it meets a cell it does not take but the general reader does.
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Task } from '../nn/spec.js';
import { DataFormatError, InvalidOptionError } from '../errors.js';
import { abbreviate, loadTable } from './csv-table.js';
import { Dataset } from './dataset.js';
import { sharedBytes } from '../util/shared-memory.js';
import { openDataFile } from './files.js';

export interface CsvOptions {
  /**
   * The target column, or several, by name or 0-based index; null for a file without targets.
   * Default: the column named "label". A header without one is refused (a misspelled label column
   * would otherwise load as one more feature), unless it is Kaggle's test.csv layout
   * pixel0,…,pixelN, which has no labels.
   */
  target?: string | number | readonly (string | number)[] | null;
  /** The same as a single target (the name this option had first). */
  label?: string | number | null;
  /** classification, regression or multilabel; default: classification for one column of class indices or names, else regression. */
  task?: Task;
  /** Whether line 1 names the columns (default true); without, columns are named by their index. */
  header?: boolean;
  /** The one character between cells (default ","). */
  delimiter?: string;
  /** Class names in index order (a trained model's): string labels map to them, and no other name is taken. */
  classNames?: readonly string[] | null;
  /** Columns to leave out by name (a model's target columns, in a file given for prediction). */
  ignore?: readonly string[];
  /** Number of classes; every label must be below it. Defaults to the largest label + 1. */
  classes?: number;
  /** Image shape; defaults to [28, 28] for the Kaggle pixel0…pixel783 columns. */
  shape?: readonly number[];
  /** Name of the data in descriptions; defaults to the file name. */
  source?: string;
}

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 10;
const COMMA = 44;
const QUOTE = 34;
const DOT = 46;
const MINUS = 45;
const PLUS = 43;
const KAGGLE_SHAPE = [28, 28];

export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  if (options.target !== undefined && options.label !== undefined) throw new InvalidOptionError('target', 'give target or label, not both');
  const target = options.target !== undefined ? options.target : options.label;
  const targets = target === null ? [] : target === undefined ? undefined : Array.isArray(target) ? [...target] : [target as string | number];
  const bytesMayDo =
    (options.header ?? true) &&
    (options.delimiter ?? ',') === ',' &&
    (options.task ?? 'classification') === 'classification' &&
    !options.classNames &&
    !options.ignore?.length &&
    (targets === undefined || targets.length <= 1);
  if (bytesMayDo) {
    const { file, size } = await openDataFile(path, 'a CSV file with a header line');
    try {
      return await parseCsvFile(path, file, size, { ...options, label: targets === undefined ? undefined : (targets[0] ?? null) });
    } catch (err) {
      if (!(err instanceof NotPixels)) throw err;
    } finally {
      await file.close();
    }
  }
  return loadTable(path, { ...options, targets });
}

/** The fast path met a cell that only the general reader takes (a fraction, a quote, a class name, a value beyond a byte). */
class NotPixels {}

/**
 * Writes the Kaggle layout: a header label,pixel0,…,pixel{width−1} (no label column when the data
 * set has no labels), then one line of integers per sample.
 */
export async function writeCsv(dataset: Dataset, path: string): Promise<void> {
  const { images, labels, width, count } = dataset;
  const columns = [...(labels ? ['label'] : []), ...Array.from({ length: width }, (_, j) => `pixel${j}`)];
  const rowMax = (width + 1) * 4;
  const buffer = Buffer.alloc(Math.max(CHUNK_BYTES, rowMax));
  const file = await open(path, 'w');
  try {
    await writeAll(file, Buffer.from(`${columns.join(',')}\n`));
    let used = 0;
    for (let r = 0; r < count; r++) {
      if (used + rowMax > buffer.length) {
        await writeAll(file, buffer.subarray(0, used));
        used = 0;
      }
      if (labels) {
        used = writeByteValue(buffer, used, labels[r]);
        buffer[used++] = COMMA;
      }
      for (let j = 0; j < width; j++) {
        used = writeByteValue(buffer, used, images[r * width + j]);
        buffer[used++] = j + 1 < width ? COMMA : NEWLINE;
      }
    }
    await writeAll(file, buffer.subarray(0, used));
  } finally {
    await file.close();
  }
}

/** A write may be partial; loop until every byte is out. */
async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += (await file.write(bytes, done, bytes.length - done)).bytesWritten;
}

/** Decimal digits of v (0–255) at buffer[at]; returns the position after them. */
function writeByteValue(buffer: Uint8Array, at: number, v: number): number {
  if (v >= 100) buffer[at++] = 48 + Math.floor(v / 100);
  if (v >= 10) buffer[at++] = 48 + (Math.floor(v / 10) % 10);
  buffer[at++] = 48 + (v % 10);
  return at;
}

async function parseCsvFile(path: string, file: FileHandle, size: number, options: CsvOptions): Promise<Dataset> {
  // Two chunks: the next read runs while the current one is parsed.
  const chunks = [new Uint8Array(CHUNK_BYTES), new Uint8Array(CHUNK_BYTES)];
  const headerParts: Uint8Array[] = [];
  let parser: RowParser | null = null;
  let columns: string[] = [];
  let offset = 0;
  try {
    const read = (k: number) => {
      const pending = file.read(chunks[k], 0, CHUNK_BYTES, null);
      pending.catch(() => {}); // awaited below, unless a parse error abandons it
      return pending;
    };
    let reading = read(0);
    for (let k = 0; ; k ^= 1) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      reading = read(k ^ 1);
      let bytes = chunks[k].subarray(0, bytesRead);
      if (!parser) {
        const end = bytes.indexOf(NEWLINE);
        headerParts.push((end < 0 ? bytes : bytes.subarray(0, end)).slice());
        if (end >= 0) {
          columns = parseHeader(path, Buffer.concat(headerParts).toString('utf8'));
          parser = new RowParser(columns, resolveLabelColumn(path, columns, options.label), options.classes, offset + end + 1, size);
          bytes = bytes.subarray(end + 1);
          offset += end + 1;
        }
      }
      if (parser) parser.feed(bytes, offset);
      offset += bytes.length;
    }
    if (offset === 0) throw new DataFormatError({ file: path, line: 1 }, `${path}: empty file, expected a CSV header line such as label,pixel0,…,pixel783`);
    if (!parser) {
      columns = parseHeader(path, Buffer.concat(headerParts).toString('utf8'));
      throw new DataFormatError({ file: path, line: 2 }, `${path}: a header line of ${columns.length} columns but no data rows`);
    }
    parser.feed(Uint8Array.of(NEWLINE), offset); // a last line without its newline
  } catch (err) {
    if (err instanceof CellProblem)
      throw new DataFormatError(
        { file: path, line: err.line, column: err.column + 1, offset: err.offset },
        `${path}: ${await describeProblem(file, columns, err)}`,
      );
    throw err;
  }
  const { images, labels, rows } = parser.result();
  if (rows === 0) throw new DataFormatError({ file: path, line: 2 }, `${path}: a header line of ${columns.length} columns but no data rows`);
  const { width, labelColumn, blankLines } = parser;
  const features = columns.filter((_, c) => c !== labelColumn);
  const kaggle = features.length === 784 && features.every((name, j) => name === `pixel${j}`);
  return new Dataset({
    images,
    labels,
    count: rows,
    width,
    shape: options.shape ?? (kaggle ? KAGGLE_SHAPE : null),
    classes: options.classes,
    source: options.source ?? basename(path),
    labelAt: (sample) => {
      const line = lineOf(blankLines, sample),
        column = labelColumn + 1;
      return { file: path, line, column, text: `${path} line ${line}, column ${column} (sample ${sample})` };
    },
  });
}

/** The line of data row `row` (0-based; line 1 is the header), given the rows before each blank line. */
function lineOf(blankLines: number[], row: number): number {
  let [lo, hi] = [0, blankLines.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blankLines[mid] <= row) lo = mid + 1;
    else hi = mid;
  }
  return 2 + row + lo;
}

/** Column names of line 1; a first line of numbers means the header is missing. */
function parseHeader(path: string, line: string): string[] {
  // The general reader handles quoted names, which may hold a comma.
  if (line.includes('"')) throw new NotPixels();
  const names = line
    .replace(/^\uFEFF/, '') // the byte-order mark some spreadsheet programs write
    .replace(/\r$/, '')
    .split(',')
    .map((n) => n.trim().replace(/^"(.*)"$/, '$1'));
  if (names.every((n) => n !== '' && Number.isFinite(Number(n))))
    throw new DataFormatError(
      { file: path, line: 1 },
      `${path}: line 1 is a row of numbers (${abbreviate(line)}), expected a header line of column names such as label,pixel0,…,pixel783 ` +
        '(or no header: header: false, --no-header)',
    );
  return names;
}

function resolveLabelColumn(path: string, columns: string[], label: CsvOptions['label']): number {
  if (label === null) return -1;
  if (label === undefined) {
    const index = columns.indexOf('label');
    if (index >= 0 || columns.every((name, j) => name === `pixel${j}`)) return index;
    throw new DataFormatError(
      { file: path, line: 1 },
      `${path}: no column named "label"; the header has ${abbreviate(columns.join(','))} ` +
        '(name the label column with the label option, or pass label: null for data without labels)',
    );
  }
  if (typeof label === 'number') {
    if (Number.isInteger(label) && label >= 0 && label < columns.length) return label;
    throw new InvalidOptionError(
      'label',
      `${path}: label column index ${label} does not exist; the header has ${columns.length} columns (0 to ${columns.length - 1})`,
    );
  }
  const index = columns.indexOf(label);
  if (index < 0) throw new InvalidOptionError('label', `${path}: no column named ${JSON.stringify(label)}; the header has ${abbreviate(columns.join(','))}`);
  return index;
}

type ProblemKind = 'cell' | 'label' | 'too many cells' | 'too few cells';

/** A malformed cell, found mid-chunk; the loader turns it into a message that quotes the file. */
class CellProblem {
  constructor(
    readonly kind: ProblemKind,
    readonly line: number,
    readonly column: number,
    /** Byte offset of the line: tracking each cell's would slow the loop, and errors can re-read. */
    readonly offset: number,
    readonly value: number,
    readonly limit: number,
  ) {}
}

/**
 * The per-byte state machine over the data lines. It keeps its place across chunk boundaries
 * (a number may be split between two reads) and writes each finished cell straight into the
 * images or labels array, which grow by doubling if the size-based estimate falls short.
 */
class RowParser {
  readonly width: number;
  private readonly lastColumn: number;
  private readonly labelLimit: number;
  /** Whether a label at or beyond the limit is an error (classes given) or a case for the general reader (more than 256 classes). */
  private readonly classesGiven: boolean;
  private images: Uint8Array;
  private labels: Uint8Array | null;
  private capacity: number;
  private rows = 0;
  /** Next byte of images to write: rows·width plus the pixels of the row in progress. */
  private position = 0;
  private line = 2;
  private column = 0;
  private value = 0;
  private digits = 0;
  private spaceAfterDigits = false;
  private lineStart: number;
  /** For each blank line, the number of rows before it: rows map to lines through them. */
  readonly blankLines: number[] = [];

  constructor(
    columns: string[],
    readonly labelColumn: number,
    classes: number | undefined,
    dataStart: number,
    fileSize: number,
  ) {
    this.width = columns.length - (labelColumn >= 0 ? 1 : 0);
    this.lastColumn = columns.length - 1;
    this.labelLimit = classes ?? 256;
    this.classesGiven = classes !== undefined;
    // A row of n cells takes at least 2n bytes (one digit and a comma or newline each), so the file
    // size bounds the row count and one allocation suffices for files (not for pipes, of size 0).
    this.capacity = Math.max(1, Math.floor((fileSize - dataStart + 1) / (2 * columns.length)));
    this.images = sharedBytes(this.capacity * this.width);
    this.labels = labelColumn >= 0 ? sharedBytes(this.capacity) : null;
    this.lineStart = dataStart;
  }

  feed(bytes: Uint8Array, base: number): void {
    let { rows, position, line, column, value, digits, spaceAfterDigits, lineStart, images, labels } = this;
    const { labelColumn, lastColumn, labelLimit } = this;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      const digit = b - 48;
      if (digit >= 0 && digit <= 9) {
        if (spaceAfterDigits) throw new CellProblem('cell', line, column, lineStart, 0, 0);
        value = value * 10 + digit;
        digits++;
      } else if (b === COMMA || b === NEWLINE) {
        if (b === NEWLINE && column === 0 && digits === 0) {
          line++; // a blank line (or the file's final newline)
          lineStart = base + i + 1;
          this.blankLines.push(rows);
          continue;
        }
        if (digits === 0) throw new CellProblem('cell', line, column, lineStart, 0, 0);
        if (column === 0 && rows === this.capacity) {
          this.grow(rows);
          ({ images, labels } = this);
        }
        if (column === labelColumn) {
          if (value >= labelLimit) {
            if (!this.classesGiven) throw new NotPixels();
            throw new CellProblem('label', line, column, lineStart, value, labelLimit);
          }
          labels![rows] = value;
        } else {
          if (value > 255) throw new NotPixels();
          images[position++] = value;
        }
        value = 0;
        digits = 0;
        spaceAfterDigits = false;
        if (b === COMMA) {
          if (column === lastColumn) throw new CellProblem('too many cells', line, column, lineStart, 0, lastColumn + 1);
          column++;
        } else {
          if (column !== lastColumn) throw new CellProblem('too few cells', line, column, lineStart, column + 1, lastColumn + 1);
          column = 0;
          rows++;
          line++;
          lineStart = base + i + 1;
        }
      } else if (b === 32 || b === 9 || b === 13) {
        // Spaces around a number, and the \r of \r\n line ends.
        if (digits > 0) spaceAfterDigits = true;
      } else {
        // A fraction, a sign or an exponent, a quote, or a label that is not a number: the general reader's.
        const general = b === QUOTE || column === labelColumn || b === DOT || b === MINUS || b === PLUS || b === 101 || b === 69;
        if (general) throw new NotPixels();
        throw new CellProblem('cell', line, column, lineStart, 0, 0);
      }
    }
    Object.assign(this, { rows, position, line, column, value, digits, spaceAfterDigits, lineStart });
  }

  /** The parsed rows, in shared memory of exactly their size. */
  result(): { images: Uint8Array; labels: Uint8Array | null; rows: number } {
    const { rows, width } = this;
    return { images: exact(this.images, rows * width), labels: this.labels && exact(this.labels, rows), rows };
  }

  private grow(rows: number): void {
    this.capacity *= 2;
    const images = sharedBytes(this.capacity * this.width);
    images.set(this.images.subarray(0, rows * this.width));
    this.images = images;
    if (this.labels) {
      const labels = sharedBytes(this.capacity);
      labels.set(this.labels.subarray(0, rows));
      this.labels = labels;
    }
  }
}

function exact(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length === length) return bytes;
  const copy = sharedBytes(length);
  copy.set(bytes.subarray(0, length));
  return copy;
}

/** "line 7, column 3 (pixel1): non-numeric cell "x1"", quoting the cell read back from the file. */
async function describeProblem(file: FileHandle, columns: string[], p: CellProblem): Promise<string> {
  const where = `line ${p.line}, column ${p.column + 1} (${columns[p.column]})`;
  switch (p.kind) {
    case 'label':
      return `${where}: label ${p.value} is outside [0, ${p.limit})`;
    case 'too many cells':
      return `line ${p.line} (byte offset ${p.offset}) has more cells than the ${p.limit} columns of the header`;
    case 'too few cells':
      return `line ${p.line} (byte offset ${p.offset}) has ${p.value} cells, the header has ${p.limit}`;
    case 'cell': {
      const text = await cellText(file, p.offset, p.column);
      const number = Number(text);
      const what = text.trim() === '' ? 'empty cell' : Number.isNaN(number) ? 'non-numeric cell' : 'malformed number';
      return `${where}: ${what} ${JSON.stringify(text)}, expected a number`;
    }
  }
}

/** Cell `column` of the line at `lineStart`, read back from the file (the first 1 MiB of the line). */
async function cellText(file: FileHandle, lineStart: number, column: number): Promise<string> {
  const bytes = new Uint8Array(CHUNK_BYTES);
  const { bytesRead } = await file.read(bytes, 0, bytes.length, lineStart);
  const line = Buffer.from(bytes.subarray(0, bytesRead)).toString('utf8').split('\n')[0];
  return (line.split(',')[column] ?? '').replace(/\r$/, '');
}
