import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { Dataset, loadCsv, loadMnist, writeCsv } from '../src/data/index.js';
import { patternBytes, rejection, tempDir } from './data-fixtures.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

let mnistTest: Dataset;
beforeAll(async () => {
  mnistTest = (await loadMnist()).test;
});

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return (
    a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0
  );
}

/** What a CSV writer written independently of writeCsv would produce. */
function csvText(header: string[], rows: number[][], newline = '\n'): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join(newline) + newline;
}

describe('CSV round trip', () => {
  it('IDX → CSV → load gives the same pixels and labels (10000 MNIST rows, many read chunks)', async () => {
    const path = tmp.path('mnist-test.csv');
    await writeCsv(mnistTest, path);
    const text = readFileSync(path, 'latin1');
    expect(text.slice(0, text.indexOf('\n')).split(',')).toEqual(['label', ...Array.from({ length: 784 }, (_, j) => `pixel${j}`)]);
    expect(text.length).toBeGreaterThan(4 << 20); // crosses several 1 MiB chunk boundaries
    const ds = await loadCsv(path);
    expect(ds.count).toBe(10000);
    expect(ds.width).toBe(784);
    expect(ds.shape).toEqual([28, 28]);
    expect(ds.classes).toBe(10);
    expect(sameBytes(ds.images, mnistTest.images)).toBe(true);
    expect(sameBytes(ds.labels!, mnistTest.labels!)).toBe(true);
  });

  it('every byte value 0–255 survives, in rows that are not images', async () => {
    const rows = 3000;
    const width = 300;
    const source = new Dataset({ images: patternBytes(rows * width, 5), labels: patternBytes(rows, 6, 200), count: rows, width, source: 'pattern' });
    const path = tmp.path('pattern.csv');
    await writeCsv(source, path);
    const ds = await loadCsv(path);
    expect(ds.shape).toBeNull();
    expect(sameBytes(ds.images, source.images)).toBe(true);
    expect(sameBytes(ds.labels!, source.labels!)).toBe(true);
  });

  it('a Kaggle test.csv (no label column) is a data set without labels', async () => {
    const path = tmp.path('kaggle-test.csv');
    const first = mnistTest.subset(
      Array.from({ length: 500 }, (_, i) => i),
      'first 500',
    );
    const unlabeled = new Dataset({ images: first.images, labels: null, count: 500, width: 784, source: 'first 500, no labels' });
    await writeCsv(unlabeled, path);
    expect(readFileSync(path, 'latin1').startsWith('pixel0,pixel1,')).toBe(true);
    const ds = await loadCsv(path);
    expect(ds.hasLabels).toBe(false);
    expect(ds.labels).toBeNull();
    expect(ds.classes).toBe(0);
    expect(ds.shape).toEqual([28, 28]);
    expect(sameBytes(ds.images, unlabeled.images)).toBe(true);
    expect((await loadCsv(path, { classes: 10 })).classes).toBe(10);
  });
});

describe('generic CSV', () => {
  const header = ['a', 'b', 'target', 'c'];
  const rows = [
    [1, 2, 3, 4],
    [255, 0, 1, 9],
    [7, 8, 0, 10],
  ];

  it('takes the label column by name or by index, anywhere in the row', async () => {
    writeFileSync(tmp.path('generic.csv'), csvText(header, rows));
    for (const label of ['target', 2] as const) {
      const ds = await loadCsv(tmp.path('generic.csv'), { label });
      expect(ds.width).toBe(3);
      expect(Array.from(ds.labels!)).toEqual([3, 1, 0]);
      expect(Array.from(ds.images)).toEqual([1, 2, 4, 255, 0, 9, 7, 8, 10]);
      expect(ds.classes).toBe(4);
    }
  });

  it('with label: null every column is a feature; without it, a header lacking "label" is refused', async () => {
    expect(await rejection(loadCsv(tmp.path('generic.csv')))).toBe(
      `${tmp.path('generic.csv')}: no column named "label"; the header has a,b,target,c ` +
        '(name the label column with the label option, or pass label: null for data without labels)',
    );
    // A misspelled label column in the Kaggle layout once loaded as 785 features and no labels.
    writeFileSync(tmp.path('lable.csv'), csvText(['lable', 'pixel0', 'pixel1'], [[3, 1, 2]]));
    expect(await rejection(loadCsv(tmp.path('lable.csv')))).toContain('lable.csv: no column named "label"; the header has lable,pixel0,pixel1 (');
    const ds = await loadCsv(tmp.path('generic.csv'), { label: null });
    expect(ds.hasLabels).toBe(false);
    expect(ds.width).toBe(4);
    expect(Array.from(ds.images)).toEqual(rows.flat());
    writeFileSync(tmp.path('labelled.csv'), csvText(['label', 'x'], [[1, 2]]));
    expect((await loadCsv(tmp.path('labelled.csv'), { label: null })).width).toBe(2);
  });

  it('accepts CRLF, blank lines, spaces around numbers, a BOM, quoted names and no final newline', async () => {
    const text = '\uFEFF"a", b ,"target",c\r\n 1,2 ,3,4\r\n\r\n255,0,1,9\r\n7,\t8,0,10';
    writeFileSync(tmp.path('messy.csv'), text);
    const ds = await loadCsv(tmp.path('messy.csv'), { label: 'target' });
    expect(ds.count).toBe(3);
    expect(Array.from(ds.images)).toEqual([1, 2, 4, 255, 0, 9, 7, 8, 10]);
    expect(Array.from(ds.labels!)).toEqual([3, 1, 0]);
  });

  it('takes a shape from the options', async () => {
    writeFileSync(tmp.path('six.csv'), csvText(['label', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5'], [[1, 1, 2, 3, 4, 5, 6]]));
    expect((await loadCsv(tmp.path('six.csv'), { shape: [2, 3] })).shape).toEqual([2, 3]);
    expect(await rejection(loadCsv(tmp.path('six.csv'), { shape: [4, 4] }))).toContain('shape [4, 4] does not hold width 6 features');
  });
});

describe('CSV as people write it', () => {
  it('reads float cells, quoted cells (RFC 4180), class names and another delimiter', async () => {
    const text = 'sepal length;"sepal; width";species\n5.1;3.5;setosa\n"7.0";3.2;"versicolor"\n6.3;"3.3";virginica\n4.9;3.0;setosa\n';
    writeFileSync(tmp.path('iris.csv'), text);
    const ds = await loadCsv(tmp.path('iris.csv'), { delimiter: ';', target: 'species' });
    expect(ds.width).toBe(2);
    expect(Array.from(ds.images)).toEqual([5.1, 3.5, 7, 3.2, 6.3, 3.3, 4.9, 3].map(Math.fround));
    expect(ds.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(ds.labels!)).toEqual([0, 1, 2, 0]);
    expect(ds.targetNames).toEqual(['species']);
    // A later file maps its names to the same classes, and refuses a name it does not have.
    writeFileSync(tmp.path('iris-test.csv'), '"sepal length";"sepal; width";species\n1;2;virginica\n3;4;rose\n');
    const message = await rejection(loadCsv(tmp.path('iris-test.csv'), { delimiter: ';', target: 'species', classNames: ds.classNames }));
    expect(message).toContain('line 3, column 3 (species): class "rose" is not one of the 3 classes setosa,versicolor,virginica');
  });

  it('takes several target columns by name or index as regression rows, or multi-label 0/1 rows', async () => {
    writeFileSync(tmp.path('multi.csv'), 'a,b,y1,y2\n1,2,0.5,10\n3,4,1.5,20\n');
    const ds = await loadCsv(tmp.path('multi.csv'), { target: ['y1', 3] });
    expect(ds.task).toBe('regression');
    expect(ds.classes).toBe(2);
    expect(Array.from(ds.targets!)).toEqual([0.5, 10, 1.5, 20]);
    expect(ds.targetNames).toEqual(['y1', 'y2']);
    const one = await loadCsv(tmp.path('multi.csv'), { target: 'y1' });
    expect(one.task).toBe('regression');
    writeFileSync(tmp.path('tags.csv'), 'a,b,red,round\n1,2,1,0\n3,4,0,1\n');
    const tags = await loadCsv(tmp.path('tags.csv'), { target: ['red', 'round'], task: 'multilabel' });
    expect(tags.task).toBe('multilabel');
    expect(Array.from(tags.targets!)).toEqual([1, 0, 0, 1]);
    writeFileSync(tmp.path('bad-tags.csv'), 'a,b,red,round\n1,2,1,0\n3,4,0,2\n');
    expect(await rejection(loadCsv(tmp.path('bad-tags.csv'), { target: ['red', 'round'], task: 'multilabel' }))).toContain(
      'line 3, column 4 (round): 2 is not a 0/1 label',
    );
    expect(await rejection(loadCsv(tmp.path('multi.csv'), { target: ['y1', 9] }))).toContain(
      'target column index 9 does not exist; there are 4 columns (0 to 3)',
    );
    expect(await rejection(loadCsv(tmp.path('multi.csv'), { target: ['price', 'y1'] }))).toContain('no column named "price"; the columns are a,b,y1,y2');
  });

  it('reads a file without a header, its columns named by index, and leaves out ignored columns', async () => {
    writeFileSync(tmp.path('bare.csv'), '1.5,2,0\n3,4.5,1\n');
    const ds = await loadCsv(tmp.path('bare.csv'), { header: false, target: 2 });
    expect(ds.count).toBe(2);
    expect(Array.from(ds.images)).toEqual([1.5, 2, 3, 4.5]);
    expect(Array.from(ds.labels!)).toEqual([0, 1]);
    const unlabelled = await loadCsv(tmp.path('bare.csv'), { header: false, target: null, ignore: ['2'] });
    expect(unlabelled.width).toBe(2);
    expect(unlabelled.hasLabels).toBe(false);
    const message = await rejection(loadCsv(tmp.path('bare.csv')));
    expect(message).toContain('line 1 is a row of numbers (1.5,2,0), expected a header line of column names');
  });

  it('refuses a delimiter that is not one character', async () => {
    writeFileSync(tmp.path('d.csv'), 'a,b\n1,2\n');
    expect(await rejection(loadCsv(tmp.path('d.csv'), { delimiter: '::' }))).toContain('delimiter must be one character');
  });
});

describe('CSV reader rejects bad input with a message naming the file, line and problem', () => {
  const header = ['label', 'pixel0', 'pixel1', 'pixel2'];

  async function csvError(name: string, text: string, options = {}): Promise<string> {
    writeFileSync(tmp.path(name), text);
    const message = await rejection(loadCsv(tmp.path(name), options));
    expect(message).toContain(tmp.path(name));
    return message;
  }
  const body = (badLine: string) => `label,pixel0,pixel1,pixel2\n1,2,3,4\n${badLine}\n5,6,7,8\n`;

  it('a missing file', async () => {
    const message = await rejection(loadCsv(tmp.path('absent.csv')));
    expect(message).toContain(tmp.path('absent.csv'));
    expect(message).toContain('file not found');
  });

  it('an empty file', async () => {
    expect(await csvError('empty.csv', '')).toContain('empty file');
  });

  it('a header without rows', async () => {
    expect(await csvError('header-only.csv', 'label,pixel0\n')).toContain('a header line of 2 columns but no data rows');
    expect(await csvError('header-no-newline.csv', 'label,pixel0')).toContain('a header line of 2 columns but no data rows');
  });

  it('a missing header', async () => {
    const message = await csvError('no-header.csv', csvText(['3', '0', '0', '255'], [[1, 2, 3, 4]]));
    expect(message).toContain('line 1 is a row of numbers (3,0,0,255), expected a header line of column names');
  });

  it('a row with too few or too many cells', async () => {
    expect(await csvError('short-row.csv', body('1,2,3'))).toMatch(/line 3 \(byte offset 35\) has 3 cells, the header has 4/);
    expect(await csvError('long-row.csv', body('1,2,3,4,5'))).toMatch(/line 3 \(byte offset 35\) has more cells than the 4 columns of the header/);
  });

  it('non-numeric, empty and malformed cells', async () => {
    expect(await csvError('letters.csv', body('1,2,x7,4'))).toContain('line 3, column 3 (pixel1): non-numeric cell "x7", expected a number');
    expect(await csvError('empty-cell.csv', body('1,,3,4'))).toContain('line 3, column 2 (pixel0): empty cell ""');
    expect(await csvError('split-number.csv', body('1,2,3 3,4'))).toContain('line 3, column 3 (pixel1): non-numeric cell "3 3"');
    // The same problems in a float file, which the general reader takes.
    expect(await csvError('float-letters.csv', body('1,2.5,x7,4'))).toContain('line 3, column 3 (pixel1): non-numeric cell "x7", expected a number');
    expect(await csvError('float-empty.csv', body('1,2.5,,4'))).toContain('line 3, column 3 (pixel1): empty cell');
    expect(await csvError('float-empty-label.csv', body(',2.5,3,4'))).toContain('line 3, column 1 (label): empty cell');
    expect(await csvError('float-short.csv', body('1,2.5,3'))).toContain('line 3 has 3 cells, the header has 4');
    expect(await csvError('quote.csv', body('1,"2,3,4'))).toMatch(/quote/i);
  });

  it('fractions, signs, exponents and values beyond a byte make float features', async () => {
    writeFileSync(tmp.path('floats.csv'), body('1,-2.5,1e3,300'));
    const ds = await loadCsv(tmp.path('floats.csv'));
    expect(ds.images).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.images)).toEqual([2, 3, 4, -2.5, 1000, 300, 6, 7, 8]);
    expect(Array.from(ds.labels!)).toEqual([1, 1, 5]);
    expect(ds.task).toBe('classification');
  });

  it('a label outside [0, classes), and labels beyond a byte as 16-bit classes', async () => {
    expect(await csvError('label-10.csv', body('10,2,3,4'), { classes: 10 })).toContain('line 3, column 1 (label): label 10 is outside [0, 10)');
    writeFileSync(tmp.path('label-300.csv'), body('300,2,3,4'));
    const wide = await loadCsv(tmp.path('label-300.csv'));
    expect(wide.classes).toBe(301);
    expect(wide.labels).toBeInstanceOf(Uint16Array);
    expect(wide.images).toBeInstanceOf(Float32Array);
  });

  it('counts lines across blank lines and CRLF endings', async () => {
    const text = `${csvText(header, [[1, 2, 3, 4]], '\r\n')}\r\n\r\n1,2,x,4\r\n`;
    expect(await csvError('crlf-bad.csv', text)).toContain('line 5, column 3 (pixel1): non-numeric cell "x"');
  });

  it("a label beyond the model's outputs, named by line and column when training", async () => {
    writeFileSync(tmp.path('blank-lines.csv'), 'p0,label\n1,0\n\n\n2,1\n\n3,7\n4,2\n');
    const ds = await loadCsv(tmp.path('blank-lines.csv'));
    expect(ds.classes).toBe(8);
    const where = `${tmp.path('blank-lines.csv')} line 7, column 2 (sample 2): label 7 is outside [0, 3), the model has 3 outputs`;
    await expect(train(createModel({ layers: [1, 3] }), ds, { epochs: 1, workers: 0 })).rejects.toThrow(where);
    expect(() => ds.subset([3, 2], 'part').requireLabelsBelow(3, 'the model has 3 outputs')).toThrow(where);
  });

  it('a label column that does not exist', async () => {
    writeFileSync(tmp.path('ok.csv'), body('1,2,3,4'));
    expect(await rejection(loadCsv(tmp.path('ok.csv'), { label: 'digit' }))).toContain('no column named "digit"; the header has label,pixel0,pixel1,pixel2');
    expect(await rejection(loadCsv(tmp.path('ok.csv'), { label: 4 }))).toContain('label column index 4 does not exist; the header has 4 columns (0 to 3)');
  });
});
