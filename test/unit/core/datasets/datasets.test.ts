// Dataset registration (image folders, CSV/JSONL tables, .npy/.npz arrays) and reading samples as
// model inputs, on real files written by the tests.
import * as assert from 'assert';
import { createHash } from 'crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { NpyArray, parseNpyHeader } from '../../../../src/core/datasets/npy';
import { registerDataset } from '../../../../src/core/datasets/register';
import {
  ArrayReader,
  loadImage,
  preprocessFromConfig,
  resizePlane,
  TableReader,
} from '../../../../src/core/datasets/samples';
import { DatasetManifest, DatasetRecord, ImagePreprocess } from '../../../../src/core/datasets/types';
import { CancelledError, InputError } from '../../../../src/core/errors';
import { Registry } from '../../../../src/core/registry/registry';
import { writeZip } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function write(file: string, bytes: Buffer | string): Buffer {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return Buffer.from(bytes);
}

/** A PNG of w×h pixels, each [r, g, b] (alpha 255). */
function pngBytes(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = px(x, y);
      png.data.set([r, g, b, 255], (y * w + x) * 4);
    }
  }
  return PNG.sync.write(png);
}

function jpegBytes(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...px(x, y), 255], (y * w + x) * 4);
  return jpeg.encode({ width: w, height: h, data }, 95).data;
}

/** A .npy written by hand: magic, version, header dict padded to 64 bytes, then the data. */
function npyBytes(
  descr: string,
  shape: number[],
  data: Buffer,
  opts: { fortran?: boolean; version?: 1 | 2 } = {},
): Buffer {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  dict += ' '.repeat((64 - ((pre + dict.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), data]);
}

const f32 = (v: number[]) => {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
};
const i64 = (v: number[]) => {
  const b = Buffer.alloc(v.length * 8);
  v.forEach((x, i) => b.writeBigInt64LE(BigInt(x), i * 8));
  return b;
};

async function rejectsInput(p: Promise<unknown>, file: string, ...parts: (string | RegExp)[]): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `"${e.message}" should name ${file}`);
    for (const part of parts) {
      if (typeof part === 'string') assert.ok(e.message.includes(part), `"${e.message}" should include "${part}"`);
      else assert.match(e.message, part);
    }
    return e;
  }
  assert.fail('expected an InputError');
}

const plain: ImagePreprocess = {
  size: [2, 2],
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  channelOrder: 'RGB',
  layout: 'NCHW',
};

describe('Datasets', () => {
  let dir: string;
  let registry: Registry;

  beforeEach(async () => {
    dir = tempDir();
    registry = await Registry.open(path.join(dir, '.modelreg'));
  });

  afterEach(async () => {
    await registry.close();
  });

  const manifestOf = (d: DatasetRecord): Promise<DatasetManifest> => registry.readManifest(d);

  describe('image folders', () => {
    it('registers class folders: classes, samples, hashes; hidden and non-image files left out', async () => {
      const root = path.join(dir, 'my pets!');
      const a = write(
        path.join(root, 'cat', 'a.png'),
        pngBytes(3, 2, () => [10, 20, 30]),
      );
      const b = write(
        path.join(root, 'cat', 'b.JPG'),
        jpegBytes(8, 8, () => [200, 100, 50]),
      );
      const c = write(
        path.join(root, 'dog', 'sub', 'c.jpeg'),
        jpegBytes(8, 8, () => [1, 2, 3]),
      );
      write(path.join(root, 'dog', 'notes.txt'), 'not an image');
      write(path.join(root, 'README.md'), '# pets');
      write(path.join(root, 'cat', '.DS_Store'), 'x');
      write(
        path.join(root, '.cache', 'd.png'),
        pngBytes(1, 1, () => [0, 0, 0]),
      );

      const progress: [number, number][] = [];
      const d = await registerDataset(registry, root, { onProgress: (done, total) => progress.push([done, total]) });
      assert.strictEqual(d.name, 'my_pets_');
      assert.strictEqual(d.kind, 'image-folder');
      assert.strictEqual(d.root, root);
      assert.deepStrictEqual(d.classes, ['cat', 'dog']);
      assert.deepStrictEqual(d.splits, []);
      assert.strictEqual(d.sampleCount, 3);
      assert.strictEqual(d.details.skipped, 2);

      const m = await manifestOf(d);
      assert.strictEqual(m.format, 'modelreg-dataset');
      assert.deepStrictEqual(m.samples, [
        { id: 'cat/a.png', file: 'cat/a.png', label: 0, split: null },
        { id: 'cat/b.JPG', file: 'cat/b.JPG', label: 0, split: null },
        { id: 'dog/sub/c.jpeg', file: 'dog/sub/c.jpeg', label: 1, split: null },
      ]);
      assert.deepStrictEqual(m.files, [
        { path: 'cat/a.png', sha256: sha(a), size: a.length },
        { path: 'cat/b.JPG', sha256: sha(b), size: b.length },
        { path: 'dog/sub/c.jpeg', sha256: sha(c), size: c.length },
      ]);
      assert.strictEqual(d.manifestSha256, sha(readFileSync(registry.store.objectPath(d.manifestSha256))));
      const total = a.length + b.length + c.length;
      assert.deepStrictEqual(progress[progress.length - 1], [total, total]);
    });

    it('same content registers as the same record; a changed file gives a new manifest', async () => {
      const root = path.join(dir, 'shapes');
      write(
        path.join(root, 'round', 'a.png'),
        pngBytes(2, 2, () => [1, 1, 1]),
      );
      write(
        path.join(root, 'square', 'b.png'),
        pngBytes(2, 2, () => [2, 2, 2]),
      );
      const first = await registerDataset(registry, root);
      const again = await registerDataset(registry, root);
      assert.strictEqual(again.id, first.id);
      assert.strictEqual(again.manifestSha256, first.manifestSha256);

      write(
        path.join(root, 'square', 'b.png'),
        pngBytes(2, 2, () => [3, 3, 3]),
      );
      const changed = await registerDataset(registry, root);
      assert.notStrictEqual(changed.manifestSha256, first.manifestSha256);
      assert.notStrictEqual(changed.id, first.id);
      assert.strictEqual((await registry.listDatasets()).length, 1, 'one name, newest registration listed');
    });

    it('split folders: train/<class>, validation/<class>; classes are the union', async () => {
      const root = path.join(dir, 'split-set');
      write(
        path.join(root, 'train', 'cat', '1.png'),
        pngBytes(1, 1, () => [1, 0, 0]),
      );
      write(
        path.join(root, 'train', 'dog', '2.png'),
        pngBytes(1, 1, () => [2, 0, 0]),
      );
      write(
        path.join(root, 'validation', 'bird', '3.png'),
        pngBytes(1, 1, () => [3, 0, 0]),
      );
      write(
        path.join(root, 'validation', 'cat', '4.png'),
        pngBytes(1, 1, () => [4, 0, 0]),
      );
      write(
        path.join(root, 'validation', 'stray.png'),
        pngBytes(1, 1, () => [5, 0, 0]),
      );
      const d = await registerDataset(registry, root, { name: 'splits' });
      assert.deepStrictEqual(d.classes, ['bird', 'cat', 'dog']);
      assert.deepStrictEqual(d.splits, ['train', 'validation']);
      assert.strictEqual(d.details.skipped, 1);
      const m = await manifestOf(d);
      assert.deepStrictEqual(
        m.samples.map((s) => [s.id, s.label, s.split]),
        [
          ['train/cat/1.png', 1, 'train'],
          ['train/dog/2.png', 2, 'train'],
          ['validation/bird/3.png', 0, 'validation'],
          ['validation/cat/4.png', 1, 'validation'],
        ],
      );
    });

    it('split folders mixed with class folders are refused', async () => {
      const root = path.join(dir, 'mixed');
      write(
        path.join(root, 'train', 'cat', '1.png'),
        pngBytes(1, 1, () => [1, 0, 0]),
      );
      write(
        path.join(root, 'dog', '2.png'),
        pngBytes(1, 1, () => [2, 0, 0]),
      );
      await rejectsInput(registerDataset(registry, root), root, 'look like splits');
    });

    it('loose images without class folders are refused', async () => {
      const root = path.join(dir, 'loose');
      write(
        path.join(root, '1.png'),
        pngBytes(1, 1, () => [1, 0, 0]),
      );
      await rejectsInput(registerDataset(registry, root), root, 'class folders');
    });
  });

  describe('tables', () => {
    const csv =
      [
        'sepal,petal,name,label,split',
        '5.1,1.4,a,setosa,train',
        '7.0,4.7,b,versicolor,train',
        '6.3,6.0,c,virginica,test',
        '4.9,1.5,d,setosa,',
      ].join('\n') + '\n';

    it('CSV: numeric features, string labels sorted, split column', async () => {
      const file = path.join(dir, 'iris data.csv');
      const bytes = write(file, csv);
      const d = await registerDataset(registry, file);
      assert.strictEqual(d.name, 'iris_data');
      assert.strictEqual(d.kind, 'table');
      assert.strictEqual(d.root, file);
      assert.deepStrictEqual(d.classes, ['setosa', 'versicolor', 'virginica']);
      assert.deepStrictEqual(d.splits, ['train', 'test']);
      assert.deepStrictEqual(d.details.ignoredColumns, ['name']);
      const m = await manifestOf(d);
      assert.deepStrictEqual(m.table, {
        labelColumn: 'label',
        featureColumns: ['sepal', 'petal'],
        splitColumn: 'split',
      });
      assert.deepStrictEqual(m.files, [{ path: 'iris data.csv', sha256: sha(bytes), size: bytes.length }]);
      assert.deepStrictEqual(m.samples[0], {
        id: 'iris data.csv#0',
        file: 'iris data.csv',
        row: 0,
        label: 0,
        split: 'train',
      });
      assert.deepStrictEqual(m.samples[3], {
        id: 'iris data.csv#3',
        file: 'iris data.csv',
        row: 3,
        label: 0,
        split: null,
      });
      assert.deepStrictEqual(
        m.samples.map((s) => s.label),
        [0, 1, 2, 0],
      );

      const reader = new TableReader(d.root, m);
      assert.deepStrictEqual([...(await reader.features(m.samples[2]))], [Math.fround(6.3), 6]);
      assert.deepStrictEqual([...(await reader.features(m.samples[1]))], [7, Math.fround(4.7)]);
    });

    it('a folder holding exactly one CSV is that table; labels 0..n-1 keep numeric order', async () => {
      const folder = path.join(dir, 'digits');
      const rows = ['a,b,label', ...Array.from({ length: 12 }, (_, i) => `${i},${i * 2},${11 - i}`)];
      write(path.join(folder, 'data.csv'), rows.join('\r\n'));
      write(path.join(folder, 'notes.txt'), 'hello');
      const d = await registerDataset(registry, folder);
      assert.strictEqual(d.name, 'digits');
      assert.strictEqual(d.root, path.join(folder, 'data.csv'));
      assert.deepStrictEqual(
        d.classes,
        Array.from({ length: 12 }, (_, i) => String(i)),
      );
      const m = await manifestOf(d);
      assert.deepStrictEqual(
        m.samples.map((s) => s.label),
        Array.from({ length: 12 }, (_, i) => 11 - i),
      );
      assert.deepStrictEqual(m.splits, []);
      assert.strictEqual(m.table!.splitColumn, undefined);
    });

    it('JSONL with a text column and custom label column', async () => {
      const file = path.join(dir, 'reviews.jsonl');
      write(
        file,
        [
          JSON.stringify({ text: 'good', len: 4, stars: 1, sentiment: 'pos' }),
          '',
          JSON.stringify({ text: 'bad', len: 3, stars: 0, sentiment: 'neg' }),
          JSON.stringify({ text: 'meh', len: 3, stars: 0.5, sentiment: 'neg' }),
        ].join('\n'),
      );
      const d = await registerDataset(registry, file, { labelColumn: 'sentiment', textColumn: 'text' });
      assert.deepStrictEqual(d.classes, ['neg', 'pos']);
      const m = await manifestOf(d);
      assert.deepStrictEqual(m.table, {
        labelColumn: 'sentiment',
        featureColumns: ['len', 'stars'],
        textColumn: 'text',
      });
      assert.deepStrictEqual(
        m.samples.map((s) => [s.id, s.label]),
        [
          ['reviews.jsonl#0', 1],
          ['reviews.jsonl#1', 0],
          ['reviews.jsonl#2', 0],
        ],
      );
      const reader = new TableReader(d.root, m);
      assert.deepStrictEqual([...(await reader.features(m.samples[2]))], [3, 0.5]);
      assert.strictEqual(await reader.text(m.samples[1]), 'bad');
    });

    it('ragged CSV rows, a missing label column and a missing label are refused with file and line', async () => {
      const ragged = path.join(dir, 'ragged.csv');
      write(ragged, 'a,b,label\n1,2,x\n3,y\n');
      await rejectsInput(registerDataset(registry, ragged), 'ragged.csv', 'line 3');

      const nolabel = path.join(dir, 'nolabel.csv');
      write(nolabel, 'a,b,target\n1,2,x\n');
      await rejectsInput(registerDataset(registry, nolabel), 'nolabel.csv', '"label"', '"a", "b", "target"');

      const empty = path.join(dir, 'empty-label.csv');
      write(empty, 'a,label\n1,x\n2,\n3,y\n');
      await rejectsInput(registerDataset(registry, empty), 'empty-label.csv', 'line 3');

      const jsonl = path.join(dir, 'missing.jsonl');
      write(jsonl, '{"a": 1, "label": "x"}\n{"a": 2}\n');
      await rejectsInput(registerDataset(registry, jsonl), 'missing.jsonl', 'line 2');

      assert.deepStrictEqual(await registry.listDatasets(), []);
    });
  });

  describe('arrays', () => {
    const inputs = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 30, 31, 32, 33, 34, 35];

    it('a folder with inputs.npy and labels.npy', async () => {
      const folder = path.join(dir, 'arr');
      const x = write(path.join(folder, 'inputs.npy'), npyBytes('<f4', [4, 2, 3], f32(inputs)));
      const y = write(path.join(folder, 'labels.npy'), npyBytes('<i8', [4], i64([2, 0, 1, 2])));
      const d = await registerDataset(registry, folder);
      assert.strictEqual(d.kind, 'arrays');
      assert.strictEqual(d.root, folder);
      assert.deepStrictEqual(d.classes, ['0', '1', '2']);
      const m = await manifestOf(d);
      assert.deepStrictEqual(m.arrays, { inputs: 'inputs.npy', labels: 'labels.npy', shape: [2, 3], dtype: 'float32' });
      assert.deepStrictEqual(m.samples[1], { id: 'inputs.npy#1', file: 'inputs.npy', row: 1, label: 0, split: null });
      assert.deepStrictEqual(m.files, [
        { path: 'inputs.npy', sha256: sha(x), size: x.length },
        { path: 'labels.npy', sha256: sha(y), size: y.length },
      ]);
      const reader = new ArrayReader(d.root, m);
      assert.deepStrictEqual([...(await reader.row(2))], [20, 21, 22, 23, 24, 25]);
      assert.deepStrictEqual([...(await reader.sample(m.samples[3]))], [30, 31, 32, 33, 34, 35]);
      await reader.close();
    });

    it('an npz (stored) with x and y, uint8 inputs converted to float; version 2 header', async () => {
      const file = path.join(dir, 'mnist-ish.npz');
      const x = Buffer.from([1, 2, 3, 4, 250, 251, 252, 253, 7, 8, 9, 10]);
      await writeZip(file, [
        ['notes.txt', Buffer.from('hi')],
        ['x.npy', npyBytes('|u1', [3, 2, 2], x, { version: 2 })],
        ['y.npy', npyBytes('<i4', [3], Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]))],
      ]);
      const d = await registerDataset(registry, file);
      assert.strictEqual(d.name, 'mnist-ish');
      assert.strictEqual(d.root, file);
      assert.deepStrictEqual(d.classes, ['0', '1']);
      const m = await manifestOf(d);
      assert.deepStrictEqual(m.arrays, { inputs: 'x', labels: 'y', shape: [2, 2], dtype: 'uint8' });
      assert.deepStrictEqual(
        m.samples.map((s) => [s.id, s.label]),
        [
          ['mnist-ish.npz#0', 1],
          ['mnist-ish.npz#1', 0],
          ['mnist-ish.npz#2', 1],
        ],
      );
      assert.deepStrictEqual(m.files, [
        { path: 'mnist-ish.npz', sha256: sha(readFileSync(file)), size: readFileSync(file).length },
      ]);
      const reader = new ArrayReader(d.root, m);
      assert.deepStrictEqual([...(await reader.row(1))], [250, 251, 252, 253]);
      assert.deepStrictEqual([...(await reader.row(2))], [7, 8, 9, 10]);
      await reader.close();
    });

    it('a compressed npz (np.savez_compressed) with inputs/labels', async () => {
      const file = path.join(dir, 'packed.npz');
      await writeZip(
        file,
        [
          [
            'inputs.npy',
            npyBytes(
              '<f8',
              [2, 3],
              Buffer.concat(
                [0.5, 1.5, 2.5, 3.5, 4.5, 5.5].map((v) => {
                  const b = Buffer.alloc(8);
                  b.writeDoubleLE(v);
                  return b;
                }),
              ),
            ),
          ],
          ['labels.npy', npyBytes('|i1', [2], Buffer.from([0, 3]))],
        ],
        { compress: true },
      );
      const d = await registerDataset(registry, file);
      assert.deepStrictEqual(d.classes, ['0', '1', '2', '3']);
      assert.strictEqual(d.details.compressed, true);
      const m = await manifestOf(d);
      const reader = new ArrayReader(d.root, m);
      assert.deepStrictEqual([...(await reader.row(1))], [3.5, 4.5, 5.5]);
      await reader.close();
    });

    it('refuses: npz without a pair, fortran order, big-endian, float labels, row mismatch', async () => {
      const npz = path.join(dir, 'odd.npz');
      await writeZip(npz, [
        ['features.npy', npyBytes('<f4', [1], f32([1]))],
        ['targets.npy', npyBytes('<i8', [1], i64([0]))],
      ]);
      await rejectsInput(registerDataset(registry, npz), 'odd.npz', 'features, targets');

      const fortran = path.join(dir, 'fortran');
      write(path.join(fortran, 'x.npy'), npyBytes('<f4', [2, 2], f32([1, 2, 3, 4]), { fortran: true }));
      write(path.join(fortran, 'y.npy'), npyBytes('<i8', [2], i64([0, 1])));
      await rejectsInput(registerDataset(registry, fortran), 'x.npy', 'Fortran');

      const big = path.join(dir, 'bigendian');
      write(path.join(big, 'inputs.npy'), npyBytes('>f4', [1, 1], Buffer.alloc(4)));
      write(path.join(big, 'labels.npy'), npyBytes('<i8', [1], i64([0])));
      await rejectsInput(registerDataset(registry, big), 'inputs.npy', 'big-endian');

      const floats = path.join(dir, 'floatlabels');
      write(path.join(floats, 'inputs.npy'), npyBytes('<f4', [1, 1], f32([0])));
      write(path.join(floats, 'labels.npy'), npyBytes('<f4', [1], f32([1])));
      await rejectsInput(registerDataset(registry, floats), 'labels.npy', 'integer');

      const rows = path.join(dir, 'rows');
      write(path.join(rows, 'inputs.npy'), npyBytes('<f4', [3, 1], f32([0, 1, 2])));
      write(path.join(rows, 'labels.npy'), npyBytes('<i8', [2], i64([0, 1])));
      await rejectsInput(registerDataset(registry, rows), 'inputs.npy', '3 input rows but 2 labels');

      const truncated = path.join(dir, 'truncated.npy');
      write(truncated, npyBytes('<f4', [4, 4], f32([1, 2, 3])));
      await rejectsInput(NpyArray.openFile(truncated), 'truncated.npy', 'truncated');
    });

    it('parses the header dict (shape, version, dtype)', () => {
      const h = parseNpyHeader(npyBytes('<i2', [5, 1, 7], Buffer.alloc(0), { version: 2 }), 'a.npy');
      assert.deepStrictEqual(h.shape, [5, 1, 7]);
      assert.strictEqual(h.dtype.name, 'int16');
      assert.strictEqual(h.dataOffset % 64, 0);
      assert.throws(() => parseNpyHeader(Buffer.from('not numpy at all'), 'b.npy'), /b\.npy: not a \.npy/);
      assert.throws(() => parseNpyHeader(npyBytes('<c8', [1], Buffer.alloc(0)), 'c.npy'), /unsupported dtype '<c8'/);
    });
  });

  describe('cancel', () => {
    it('an aborted signal stops registration with CancelledError and stores nothing', async () => {
      const root = path.join(dir, 'many');
      for (let i = 0; i < 20; i++)
        write(
          path.join(root, i % 2 ? 'odd' : 'even', `${i}.png`),
          pngBytes(4, 4, () => [i, i, i]),
        );
      const pre = new AbortController();
      pre.abort();
      await assert.rejects(registerDataset(registry, root, { signal: pre.signal }), CancelledError);

      const mid = new AbortController();
      await assert.rejects(
        registerDataset(registry, root, { signal: mid.signal, onProgress: (done) => done > 0 && mid.abort() }),
        CancelledError,
      );
      assert.deepStrictEqual(await registry.listDatasets(), []);
    });
  });

  describe('images as model inputs', () => {
    it('bilinear 2×2 → 4×4 (half-pixel) matches values worked out by hand', async () => {
      // Red channel [[0, 100], [200, 40]]. Along each axis output pixels sample input positions
      // -0.25, 0.25, 0.75, 1.25 → weights (1,0) (.75,.25) (.25,.75) (0,1), edges clamped.
      const red = [
        [0, 100],
        [200, 40],
      ];
      const file = path.join(dir, 'tiny.png');
      write(
        file,
        pngBytes(2, 2, (x, y) => [red[y][x], 7, 0]),
      );
      const out = await loadImage(file, { ...plain, size: [4, 4] });
      assert.strictEqual(out.length, 3 * 16);
      const expectedRed = [0, 25, 75, 100, 50, 58.75, 76.25, 85, 150, 126.25, 78.75, 55, 200, 160, 80, 40];
      assert.deepStrictEqual(
        [...out.slice(0, 16)].map((v) => +v.toFixed(4)),
        expectedRed,
      );
      assert.deepStrictEqual(
        [...out.slice(16, 32)].map((v) => +v.toFixed(4)),
        new Array(16).fill(7),
        'a constant channel stays constant',
      );
    });

    it('shrinking averages (antialiased, as PIL) and keeps constant images constant', () => {
      const src = Float32Array.from([0, 4, 8, 12]); // 4×1
      // Output pixel 0 centres at input 1.0 with a filter twice as wide: weights .75, .75, .25 on inputs 0..2.
      const out = resizePlane(src, 4, 1, 2, 1);
      assert.ok(Math.abs(out[0] - (0 * 0.75 + 4 * 0.75 + 8 * 0.25) / 1.75) < 1e-5);
      assert.ok(Math.abs(out[1] - (4 * 0.25 + 8 * 0.75 + 12 * 0.75) / 1.75) < 1e-5);
      const flat = resizePlane(new Float32Array(35).fill(3), 7, 5, 3, 2);
      assert.ok(flat.every((v) => Math.abs(v - 3) < 1e-6));
    });

    it('normalises per channel, swaps to BGR and lays out NHWC', async () => {
      const file = path.join(dir, 'norm.png');
      write(
        file,
        pngBytes(2, 1, (x) => (x === 0 ? [255, 0, 51] : [0, 255, 102])),
      );
      const pre: ImagePreprocess = {
        size: [1, 2],
        scale: 1 / 255,
        mean: [0.5, 0.25, 0],
        std: [0.5, 0.25, 2],
        channelOrder: 'BGR',
        layout: 'NHWC',
      };
      const out = [...(await loadImage(file, pre))].map((v) => +v.toFixed(5));
      // Output channel 0 is blue (mean .5, std .5), 1 green, 2 red (mean 0, std 2).
      assert.deepStrictEqual(
        out,
        [(0.2 - 0.5) / 0.5, (0 - 0.25) / 0.25, 1 / 2, (0.4 - 0.5) / 0.5, (1 - 0.25) / 0.25, 0].map(
          (v) => +v.toFixed(5),
        ),
      );
      const nchw = [...(await loadImage(file, { ...plain, size: [1, 2] }))];
      assert.deepStrictEqual(nchw, [255, 0, 0, 255, 51, 102]);
    });

    it('grayscale PNG becomes RGB; a JPEG named .png is read by its content', async () => {
      const gray = new PNG({ width: 1, height: 1 });
      gray.data.set([90, 90, 90, 255]);
      const gfile = path.join(dir, 'gray.png');
      write(gfile, PNG.sync.write(gray, { colorType: 0 }));
      assert.deepStrictEqual([...(await loadImage(gfile, { ...plain, size: [1, 1] }))], [90, 90, 90]);

      const jfile = path.join(dir, 'really-a-jpeg.png');
      write(
        jfile,
        jpegBytes(8, 8, () => [200, 100, 50]),
      );
      const out = await loadImage(jfile, { ...plain, size: [8, 8] });
      for (const [c, want] of [
        [0, 200],
        [1, 100],
        [2, 50],
      ]) {
        assert.ok(
          out.slice(c * 64, (c + 1) * 64).every((v) => Math.abs(v - want) <= 3),
          `channel ${c} ≈ ${want}`,
        );
      }
    });

    it('corrupt and truncated images → InputError naming the file', async () => {
      const junk = path.join(dir, 'junk.png');
      write(junk, 'definitely not a picture');
      await rejectsInput(loadImage(junk, plain), junk, 'not a readable PNG/JPEG image');

      const full = jpegBytes(16, 16, (x, y) => [x * 16, y * 16, 128]);
      const cut = path.join(dir, 'cut.jpg');
      write(cut, full.subarray(0, Math.floor(full.length * 0.6)));
      await rejectsInput(loadImage(cut, plain), cut, 'not a readable PNG/JPEG image');

      const png = pngBytes(4, 4, () => [1, 2, 3]);
      const cutPng = path.join(dir, 'cut.png');
      write(cutPng, png.subarray(0, png.length - 20));
      await rejectsInput(loadImage(cutPng, plain), cutPng, 'not a readable PNG/JPEG image');
    });
  });

  describe('preprocessFromConfig', () => {
    it('infers size and layout from the ONNX input shape, with ImageNet defaults', () => {
      const p = preprocessFromConfig(undefined, ['batch', 3, 32, 48]);
      assert.deepStrictEqual(p, {
        size: [32, 48],
        scale: 1 / 255,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        channelOrder: 'RGB',
        layout: 'NCHW',
      });
      const q = preprocessFromConfig({ other: 1 }, [1, 64, 96, 3]);
      assert.deepStrictEqual([q.size, q.layout], [[64, 96], 'NHWC']);
      assert.deepStrictEqual(preprocessFromConfig({}, ['n', 3, 'h', 'w']).size, [224, 224]);
    });

    it('reads the preprocessing keys from config.json', () => {
      const p = preprocessFromConfig(
        {
          preprocessing: {
            resize: [10, 20],
            mean: 0.5,
            std: [1, 2, 3],
            scale: 1,
            channel_order: 'bgr',
            layout: 'NHWC',
          },
        },
        [1, 3, 224, 224],
      );
      assert.deepStrictEqual(p, {
        size: [10, 20],
        scale: 1,
        mean: [0.5, 0.5, 0.5],
        std: [1, 2, 3],
        channelOrder: 'BGR',
        layout: 'NHWC',
      });
      assert.deepStrictEqual(preprocessFromConfig({ preprocessing: { size: 100 } }, undefined).size, [100, 100]);
      assert.throws(
        () => preprocessFromConfig({ preprocessing: { layout: 'CHW' } }, undefined),
        (e: unknown) => e instanceof InputError && /config\.json.*layout/.test(e.message),
      );
      assert.throws(() => preprocessFromConfig({ preprocessing: { std: [1, 0, 1] } }, undefined), InputError);
    });
  });
});
