// CSV files as people write them: a header line or none, any one-character delimiter, RFC 4180
// quoted cells, float features, and one or several target columns holding class indices, class
// names, values or 0/1 labels. The tokenizing (quotes, escaped quotes, delimiters and line ends
// inside quotes, a byte-order mark) is csv-parse's; this file turns its records into a Dataset and
// says where every bad cell is. Integer pixel files take the byte parser of csv.ts instead.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { CsvError, parse } from 'csv-parse';
import type { Task } from '../nn/spec.js';
import { Dataset, type LabelLocation, MAX_CLASSES, sharedLabels } from './dataset.js';
import { DataFormatError, InvalidOptionError } from '../errors.js';
import { sharedBuffer } from '../util/shared-memory.js';

export interface TableOptions {
  /** Target columns by name or 0-based index; [] for none; default: the column named "label" (a file without one is refused). */
  targets?: (string | number)[];
  /** Whether line 1 names the columns (default true); without, columns are named by their index ("0", "1", …). */
  header?: boolean;
  /** One character between cells (default ","). */
  delimiter?: string;
  /** classification, regression or multilabel; default: classification for one column of class indices or names, else regression. */
  task?: Task;
  /** Number of classes, for class indices. */
  classes?: number;
  /** Class names in index order (a trained model's): string labels map to them, and no other name is taken. */
  classNames?: readonly string[] | null;
  /** Columns left out (by name): the target columns of a model's training file, in a file given for prediction. */
  ignore?: readonly string[];
  shape?: readonly number[];
  source?: string;
}

/** Where a bad cell is: "data.csv: line 7, column 3 (petal_width)". */
function at(path: string, line: number, column: number, names: string[]): LabelLocation {
  return { file: path, line, column: column + 1, text: `${path}: line ${line}, column ${column + 1} (${names[column]})` };
}

/** A bad cell's error: its place, and the problem after the place's text. */
function cellError(where: LabelLocation, problem: string): DataFormatError {
  const { text, ...location } = where;
  return new DataFormatError(location, `${text}: ${problem}`);
}

export async function loadTable(path: string, options: TableOptions): Promise<Dataset> {
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || [...delimiter].length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
    throw new InvalidOptionError('delimiter', `delimiter must be one character other than a quote or a line end, got ${JSON.stringify(delimiter)}`);
  const header = options.header ?? true;
  const records = createReadStream(path).pipe(parse({ delimiter, bom: true, info: true, skip_empty_lines: true, relax_column_count: true, trim: true }));
  let names: string[] | null = null;
  let targetColumns: number[] = [];
  let featureColumns: number[] = [];
  let width = 0;
  let features: Float32Array = new Float32Array(0);
  const targetCells: string[][] = [];
  const targetLines: number[] = [];
  let rows = 0;
  try {
    for await (const { record, info } of records as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (!names) {
        names = header ? record : record.map((_, j) => String(j));
        if (header && names.every((n) => n !== '' && Number.isFinite(Number(n))))
          throw new DataFormatError(
            { file: path, line: 1 },
            `${path}: line 1 is a row of numbers (${abbreviate(record.join(delimiter))}), expected a header line of column names (or no header: header: false, --no-header)`,
          );
        ({ targetColumns, featureColumns } = columnsOf(path, names, options));
        width = featureColumns.length;
        if (width === 0)
          throw new InvalidOptionError('target', `${path}: no feature columns left beside the target columns ${targetColumns.map((c) => names![c]).join(',')}`);
        features = new Float32Array(1024 * width);
        if (header) continue;
      }
      if (record.length !== names.length)
        throw new DataFormatError(
          { file: path, line },
          `${path}: line ${line} has ${record.length} cells, the ${header ? 'header' : 'first line'} has ${names.length}`,
        );
      if ((rows + 1) * width > features.length) features = grown(features, 2 * features.length);
      featureColumns.forEach((c, j) => {
        features[rows * width + j] = number(record[c], () => at(path, line, c, names!));
      });
      targetCells.push(
        targetColumns.map((c) => {
          if (record[c] === '') throw cellError(at(path, line, c, names!), 'empty cell');
          return record[c];
        }),
      );
      targetLines.push(line);
      rows++;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: file not found, expected a CSV file`, { cause: err });
    if (code === 'EISDIR') throw new Error(`${path}: is a directory, expected a CSV file`, { cause: err });
    // csv-parse's own errors (an unclosed quote, a quote inside an unquoted cell) say the line.
    if (err instanceof CsvError)
      throw new DataFormatError({ file: path, line: (err as CsvError & { lines?: number }).lines }, `${path}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
  if (!names) throw new DataFormatError({ file: path, line: 1 }, `${path}: empty file, expected a CSV file${header ? ' with a header line' : ''}`);
  if (rows === 0) throw new DataFormatError({ file: path, line: 2 }, `${path}: a header line of ${names.length} columns but no data rows`);
  const images = new Float32Array(sharedBuffer(rows * width * 4));
  images.set(features.subarray(0, rows * width));
  const targetNames = targetColumns.map((c) => names![c]);
  const base = {
    images,
    count: rows,
    width,
    shape: options.shape ?? null,
    source: options.source ?? basename(path),
    targetNames: targetNames.length ? targetNames : null,
  };
  if (targetColumns.length === 0) return new Dataset({ ...base, labels: null });
  const where = (r: number, k: number) => at(path, targetLines[r], targetColumns[k], names!);
  return new Dataset({ ...base, ...targetsOf(targetCells, targetColumns.length, options, where) });
}

function columnsOf(path: string, names: string[], options: TableOptions): { targetColumns: number[]; featureColumns: number[] } {
  if (!options.targets && !names.includes('label'))
    throw new InvalidOptionError(
      'target',
      `${path}: no column named "label"; the columns are ${abbreviate(names.join(','))} ` +
        '(name the target columns with the target option, or pass target: null for data without targets)',
    );
  const targets = options.targets ?? ['label'];
  const targetColumns = targets.map((t) => {
    if (typeof t === 'number') {
      if (Number.isInteger(t) && t >= 0 && t < names.length) return t;
      throw new InvalidOptionError('target', `${path}: target column index ${t} does not exist; there are ${names.length} columns (0 to ${names.length - 1})`);
    }
    const c = names.indexOf(t);
    if (c < 0) throw new InvalidOptionError('target', `${path}: no column named ${JSON.stringify(t)}; the columns are ${abbreviate(names.join(','))}`);
    return c;
  });
  const seen = new Set<number>();
  for (const c of targetColumns) {
    if (seen.has(c)) throw new InvalidOptionError('target', `${path}: target column ${names[c]} is named twice`);
    seen.add(c);
  }
  const ignored = new Set(options.ignore ?? []);
  const featureColumns = names.map((_, c) => c).filter((c) => !seen.has(c) && !ignored.has(names[c]));
  return { targetColumns, featureColumns };
}

/** The targets of the rows as the task takes them: class labels (indices or names) or float rows. */
function targetsOf(
  cells: string[][],
  k: number,
  options: TableOptions,
  where: (r: number, k: number) => LabelLocation,
): { labels: ReturnType<typeof sharedLabels>; classes: number; classNames: string[] | null; task: Task } | { labels: null; targets: Float32Array; task: Task } {
  const numeric = cells.every((row) => row.every((v) => Number.isFinite(Number(v))));
  const indices = numeric && cells.every((row) => row.every((v) => Number.isInteger(Number(v)) && Number(v) >= 0));
  const task = options.task ?? (k === 1 && (indices || !numeric) ? 'classification' : 'regression');
  if (task === 'classification') {
    if (k !== 1) throw new InvalidOptionError('task', `task classification takes one target column, got ${k}`);
    const rows = cells.length;
    if (!numeric || options.classNames) {
      const classNames = options.classNames ? [...options.classNames] : [...new Set(cells.map((row) => row[0]))].sort();
      const index = new Map(classNames.map((name, c) => [name, c]));
      const labels = sharedLabels(rows, classNames.length);
      for (let r = 0; r < rows; r++) {
        const c = index.get(cells[r][0]);
        if (c === undefined)
          throw cellError(
            where(r, 0),
            `class ${JSON.stringify(cells[r][0])} is not one of the ${classNames.length} classes ${abbreviate(classNames.join(','))}`,
          );
        labels[r] = c;
      }
      return { labels, classes: classNames.length, classNames, task };
    }
    let classes = 0;
    for (let r = 0; r < rows; r++) {
      const v = Number(cells[r][0]);
      if (!(Number.isInteger(v) && v >= 0 && v < MAX_CLASSES)) throw cellError(where(r, 0), `label ${cells[r][0]} is not a class index (an integer from 0)`);
      if (options.classes !== undefined && v >= options.classes) throw cellError(where(r, 0), `label ${v} is outside [0, ${options.classes})`);
      classes = Math.max(classes, v + 1);
    }
    const labels = sharedLabels(rows, options.classes ?? classes);
    for (let r = 0; r < rows; r++) labels[r] = Number(cells[r][0]);
    return { labels, classes: options.classes ?? classes, classNames: null, task };
  }
  const targets = new Float32Array(sharedBuffer(cells.length * k * 4));
  cells.forEach((row, r) =>
    row.forEach((v, j) => {
      const t = number(v, () => where(r, j));
      if (task === 'multilabel' && t !== 0 && t !== 1) throw cellError(where(r, j), `${v} is not a 0/1 label`);
      targets[r * k + j] = t;
    }),
  );
  return { labels: null, targets, task };
}

/** The cell as a finite number, or an error that says where it is and what it holds. */
function number(cell: string, where: () => LabelLocation): number {
  if (cell === '') throw cellError(where(), 'empty cell');
  const v = Number(cell);
  if (!Number.isFinite(v)) throw cellError(where(), `${Number.isNaN(v) ? 'non-numeric' : 'infinite'} cell ${JSON.stringify(cell)}, expected a number`);
  return v;
}

function grown(a: Float32Array, length: number): Float32Array {
  const b = new Float32Array(length);
  b.set(a);
  return b;
}

export function abbreviate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
