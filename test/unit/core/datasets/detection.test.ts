// Detection datasets (COCO, YOLO, Pascal VOC) on real files: the coco-shapes fixture (3 JPEGs,
// 9 boxes) written out in each format must give the same pixel boxes and classes; bad input is
// reported by file and annotation id or line, and what is usable is kept.
import * as assert from 'assert';
import { createHash } from 'crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { registerDataset } from '../../../../src/core/datasets/register';
import { checkDatasetFiles, realDatasetRoot } from '../../../../src/core/datasets/verify';
import { DatasetManifest, DatasetRecord } from '../../../../src/core/datasets/types';
import { InputError } from '../../../../src/core/errors';
import { Registry } from '../../../../src/core/registry/registry';
import { tempDir } from '../../helpers/tmp';

const FIXTURE = path.join(__dirname, '..', '..', '..', '..', '..', 'test', 'fixtures', 'coco-shapes');
const IMAGES = ['img_1.jpg', 'img_2.jpg', 'img_3.jpg'];

interface CocoGt {
  images: { id: number; width: number; height: number; file_name: string }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[]; area: number }[];
  categories: { id: number; name: string }[];
}
const gt = JSON.parse(readFileSync(path.join(FIXTURE, 'gt_dataset.json'), 'utf8')) as CocoGt;
const catName = new Map(gt.categories.map((c) => [c.id, c.name]));
const yoloNames = [...gt.categories].sort((a, b) => a.id - b.id).map((c) => c.name);
/** The fixture's boxes of one image: [class name, x, y, w, h], in annotation order. */
const boxesOf = (file: string) => {
  const im = gt.images.find((i) => i.file_name === file)!;
  return gt.annotations.filter((a) => a.image_id === im.id);
};
/** Split used for the YOLO and VOC copies: img_3 is val, the rest train. */
const splitOf = (file: string) => (file === 'img_3.jpg' ? 'val' : 'train');

function write(file: string, text: string | Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** The fixture as YOLO: images/{train,val}/, labels/{train,val}/ with normalised boxes, data.yaml. */
function writeYolo(root: string, yaml = 'path: .\ntrain: images/train\nval: images/val\n'): void {
  for (const f of IMAGES) {
    const split = splitOf(f);
    copyFileSync(path.join(FIXTURE, f), path.join(mkdir(root, 'images', split), f));
    const lines = boxesOf(f).map((a) => {
      const [x, y, w, h] = a.bbox;
      return `${yoloNames.indexOf(catName.get(a.category_id)!)} ${(x + w / 2) / 256} ${(y + h / 2) / 256} ${w / 256} ${h / 256}`;
    });
    write(path.join(root, 'labels', split, f.replace('.jpg', '.txt')), lines.join('\n') + '\n');
  }
  write(path.join(root, 'data.yaml'), `${yaml}names:\n${yoloNames.map((n, i) => `  ${i}: ${n}`).join('\n')}\n`);
}

/** The fixture as Pascal VOC: JPEGImages/, Annotations/*.xml, ImageSets/Main/{train,val}.txt. */
function writeVoc(root: string): void {
  for (const f of IMAGES) {
    copyFileSync(path.join(FIXTURE, f), path.join(mkdir(root, 'JPEGImages'), f));
    const objects = boxesOf(f).map((a) => {
      const [x, y, w, h] = a.bbox;
      return `  <object><name>${catName.get(a.category_id)}</name><difficult>0</difficult><bndbox><xmin>${x}</xmin><ymin>${y}</ymin><xmax>${x + w}</xmax><ymax>${y + h}</ymax></bndbox></object>`;
    });
    write(
      path.join(root, 'Annotations', f.replace('.jpg', '.xml')),
      `<annotation>\n  <filename>${f}</filename>\n  <size><width>256</width><height>256</height><depth>3</depth></size>\n${objects.join('\n')}\n</annotation>\n`,
    );
  }
  write(path.join(root, 'ImageSets', 'Main', 'train.txt'), 'img_1\nimg_2\n');
  write(path.join(root, 'ImageSets', 'Main', 'val.txt'), 'img_3\n');
}

function mkdir(...parts: string[]): string {
  const p = path.join(...parts);
  mkdirSync(p, { recursive: true });
  return p;
}

/** Per image base name: its boxes as "class x y w h", sorted, numbers rounded to 1e-6. */
function boxesByImage(m: DatasetManifest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of m.samples)
    out[path.basename(s.file)] = s
      .boxes!.map((b) => `${m.classes[b.label]} ${b.bbox.map((v) => v.toFixed(6)).join(' ')}`)
      .sort();
  return out;
}

describe('Detection datasets', () => {
  let dir: string;
  let registry: Registry;
  beforeEach(async () => {
    dir = tempDir();
    registry = await Registry.open(path.join(dir, '.modelreg'));
  });
  afterEach(async () => {
    await registry.close();
  });
  const manifest = (d: DatasetRecord) => registry.readManifest(d);
  const shapes = () => {
    const root = mkdir(dir, 'shapes');
    for (const f of [...IMAGES, 'gt_dataset.json']) copyFileSync(path.join(FIXTURE, f), path.join(root, f));
    return root;
  };
  const coco = async (doc: unknown, name = 'bad.json') => {
    const file = path.join(dir, name);
    write(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return registerDataset(registry, file, { name: name.replace(/\W/g, '_') });
  };
  const problems = (d: DatasetRecord) =>
    d.details.problems as { file: string; annotationId?: number; imageId?: number; line?: number; problem: string }[];
  const rejects = async (p: Promise<unknown>, file: string, re: RegExp) =>
    assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.strictEqual(e.file, file);
      assert.match(e.problem, re);
      return true;
    });

  it('COCO, YOLO and VOC copies of the same images give the same pixel boxes and classes', async () => {
    const cocoRoot = shapes();
    const c = await registerDataset(registry, path.join(cocoRoot, 'gt_dataset.json'), {
      name: 'coco',
      images: cocoRoot,
    });
    writeYolo(mkdir(dir, 'yolo'));
    const y = await registerDataset(registry, path.join(dir, 'yolo', 'data.yaml'), { name: 'yolo' });
    writeVoc(mkdir(dir, 'voc'));
    const v = await registerDataset(registry, path.join(dir, 'voc'), { name: 'voc' });
    const [mc, my, mv] = await Promise.all([c, y, v].map(manifest));

    for (const d of [c, y, v]) {
      assert.strictEqual(d.kind, 'detection');
      assert.strictEqual(d.sampleCount, 3);
      assert.strictEqual(d.details.boxes, 9);
      assert.strictEqual(d.details.problemCount, 0);
    }
    assert.deepStrictEqual(mc.classes, ['cloud', 'heart', 'arrow', 'star']);
    assert.deepStrictEqual(my.classes, mc.classes);
    assert.deepStrictEqual(mv.classes, ['arrow', 'cloud', 'heart', 'star']); // VOC: sorted by name
    assert.deepStrictEqual(mc.detection, { source: 'coco', categoryIds: [1, 2, 3, 4] });
    assert.deepStrictEqual(my.detection, { source: 'yolo', categoryIds: [0, 1, 2, 3] });
    assert.deepStrictEqual(mv.detection, { source: 'voc', categoryIds: [0, 1, 2, 3] });

    // The fixture's own boxes, by image and class name.
    const expected: Record<string, string[]> = {};
    for (const f of IMAGES)
      expected[f] = boxesOf(f)
        .map((a) => `${catName.get(a.category_id)} ${a.bbox.map((n) => n.toFixed(6)).join(' ')}`)
        .sort();
    assert.deepStrictEqual(boxesByImage(mc), expected);
    assert.deepStrictEqual(boxesByImage(my), expected);
    assert.deepStrictEqual(boxesByImage(mv), expected);

    // COCO keeps its ids, area and file names; YOLO and VOC number images by path, boxes by image then line.
    assert.deepStrictEqual(
      mc.samples.map((s) => [s.file, s.image!.id]),
      [
        ['img_1.jpg', 2],
        ['img_2.jpg', 3],
        ['img_3.jpg', 1],
      ],
    );
    assert.deepStrictEqual(
      mc.samples.flatMap((s) => s.boxes!.map((b) => b.area)),
      [2, 3, 1].flatMap((id) => gt.annotations.filter((a) => a.image_id === id).map((a) => a.area)),
    );
    assert.deepStrictEqual(
      my.samples.map((s) => [s.file, s.image, s.split]),
      [
        ['images/train/img_1.jpg', { id: 1, width: 256, height: 256 }, 'train'],
        ['images/train/img_2.jpg', { id: 2, width: 256, height: 256 }, 'train'],
        ['images/val/img_3.jpg', { id: 3, width: 256, height: 256 }, 'val'],
      ],
    );
    assert.deepStrictEqual(
      mv.samples.flatMap((s) => s.boxes!.map((b) => b.id)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepStrictEqual(mv.splits, ['train', 'val']);
    assert.deepStrictEqual(mc.splits, []);

    // Every file used is hashed.
    assert.deepStrictEqual(
      mc.files.map((f) => f.path),
      ['gt_dataset.json', ...IMAGES],
    );
    assert.deepStrictEqual(
      my.files.map((f) => f.path),
      [
        'data.yaml',
        'images/train/img_1.jpg',
        'images/train/img_2.jpg',
        'images/val/img_3.jpg',
        'labels/train/img_1.txt',
        'labels/train/img_2.txt',
        'labels/val/img_3.txt',
      ],
    );
    assert.deepStrictEqual(
      mv.files.map((f) => f.path),
      [
        'Annotations/img_1.xml',
        'Annotations/img_2.xml',
        'Annotations/img_3.xml',
        'ImageSets/Main/train.txt',
        'ImageSets/Main/val.txt',
        'JPEGImages/img_1.jpg',
        'JPEGImages/img_2.jpg',
        'JPEGImages/img_3.jpg',
      ],
    );
    const jpg = readFileSync(path.join(FIXTURE, 'img_1.jpg'));
    assert.strictEqual(
      mv.files.find((f) => f.path === 'JPEGImages/img_1.jpg')!.sha256,
      createHash('sha256').update(jpg).digest('hex'),
    );
    assert.strictEqual(c.root, path.join(cocoRoot, 'gt_dataset.json'));
    assert.strictEqual(c.details.imagesDir, cocoRoot);
    assert.strictEqual(y.root, path.join(dir, 'yolo'));
  });

  it('registering the same content twice, from another folder, gives the same manifest', async () => {
    for (const n of ['a', 'b']) {
      const root = mkdir(dir, n);
      for (const f of [...IMAGES, 'gt_dataset.json']) copyFileSync(path.join(FIXTURE, f), path.join(root, f));
      writeYolo(mkdir(root, 'yolo'));
      writeVoc(mkdir(root, 'voc'));
    }
    const twice = async (rel: string, tag: string, opts: (n: string) => { images?: string } = () => ({})) => {
      const [a, b] = await Promise.all(
        ['a', 'b'].map((n) => registerDataset(registry, path.join(dir, n, rel), { name: `${n}-${tag}`, ...opts(n) })),
      );
      assert.strictEqual(a.manifestSha256, b.manifestSha256, rel);
      assert.notStrictEqual(a.root, b.root);
    };
    await twice('gt_dataset.json', 'coco', (n) => ({ images: path.join(dir, n) }));
    await twice('gt_dataset.json', 'bare');
    await twice('yolo', 'yolo');
    await twice('voc', 'voc');
  });

  it('checks the files before an evaluation: COCO images under the images folder, YOLO and VOC under the root', async () => {
    const root = shapes();
    const c = await registerDataset(registry, path.join(root, 'gt_dataset.json'), { images: root });
    const bare = await registerDataset(registry, path.join(root, 'gt_dataset.json'), { name: 'bare' });
    writeYolo(mkdir(dir, 'yolo'));
    const y = await registerDataset(registry, path.join(dir, 'yolo'), { name: 'yolo' });
    for (const d of [c, bare, y]) {
      const m = await manifest(d);
      await checkDatasetFiles(d, m, await realDatasetRoot(d), m.samples);
    }
    write(path.join(root, 'img_2.jpg'), readFileSync(path.join(FIXTURE, 'img_1.jpg')));
    const m = await manifest(c);
    await rejects(
      checkDatasetFiles(c, m, await realDatasetRoot(c), m.samples),
      path.join(root, 'img_2.jpg'),
      /changed since dataset gt_dataset was registered/,
    );
    // Without images only the JSON counts.
    await checkDatasetFiles(bare, await manifest(bare), await realDatasetRoot(bare), (await manifest(bare)).samples);
    write(path.join(dir, 'yolo', 'labels', 'val', 'img_3.txt'), '0 0.5 0.5 0.1 0.1\n');
    const my = await manifest(y);
    await rejects(
      checkDatasetFiles(y, my, await realDatasetRoot(y), my.samples),
      path.join(dir, 'yolo', 'labels', 'val', 'img_3.txt'),
      /changed since/,
    );
  });

  describe('COCO', () => {
    const image = (id: number, file_name = `i${id}.jpg`) => ({ id, file_name, width: 100, height: 50 });
    const ann = (id: number, bbox: unknown, extra: Record<string, unknown> = {}) => ({
      id,
      image_id: 1,
      category_id: 7,
      bbox,
      area: 10,
      iscrowd: 0,
      ...extra,
    });

    it('reports each bad annotation by file and id, keeps what is usable', async () => {
      const d = await coco({
        images: [image(1), image(2), image(1, 'again.jpg'), image(3, 'i1.jpg')],
        categories: [
          { id: 90, name: 'zebra' },
          { id: 7, name: 'cat' },
        ],
        annotations: [
          ann(1, [10, 10, 20, 20]),
          ann(2, [10, 10, 0, 5]),
          ann(3, [10, 10, 'x', 5]),
          ann(4, [200, 10, 5, 5]),
          ann(5, [90, 40, 20, 20], { iscrowd: 1 }),
          ann(6, [1, 1, 2, 2], { category_id: 3 }),
          ann(1, [1, 1, 2, 2]),
          ann(7, [1, 1, 2, 2], { image_id: 42 }),
          ann(0, [1, 1, 2, 2], { category_id: 90, image_id: 2 }),
        ],
      });
      const m = await manifest(d);
      assert.deepStrictEqual(m.classes, ['cat', 'zebra']);
      assert.deepStrictEqual(m.detection!.categoryIds, [7, 90]);
      assert.deepStrictEqual(
        m.samples.map((s) => [s.file, s.boxes!.map((b) => [b.id, b.label, b.bbox, b.iscrowd ?? false])]),
        [
          [
            'i1.jpg',
            [
              [1, 0, [10, 10, 20, 20], false],
              [5, 0, [90, 40, 20, 20], true],
            ],
          ],
          ['i2.jpg', [[0, 1, [1, 1, 2, 2], false]]],
        ],
      );
      const got = problems(d).map((p) => [p.file, p.annotationId ?? p.imageId, p.problem.split(';')[0]]);
      assert.deepStrictEqual(got, [
        ['bad.json', 1, 'image id 1 appears twice'],
        ['bad.json', 3, 'file_name i1.jpg appears twice'],
        ['bad.json', 2, 'box [10, 10, 0, 5] has no area (w or h ≤ 0)'],
        ['bad.json', 3, 'bbox must be 4 numbers [x, y, w, h]'],
        ['bad.json', 4, 'box [200, 10, 5, 5] lies entirely outside the 100×50 image'],
        ['bad.json', 5, 'box [90, 40, 20, 20] reaches outside the 100×50 image'],
        ['bad.json', 6, 'category_id 3 is not in "categories"'],
        ['bad.json', 1, 'annotation id 1 appears twice'],
        ['bad.json', 7, 'image_id 42 is not in "images"'],
        ['bad.json', 0, 'annotation id 0: pycocotools cannot match it'],
      ]);
      assert.strictEqual(d.details.problemCount, 10);
      assert.deepStrictEqual(d.details.problemCounts, {
        'duplicate-image-id': 1,
        'duplicate-file-name': 1,
        'box-empty': 1,
        'box-not-finite': 1,
        'box-outside': 1,
        'box-partly-outside': 1,
        'unknown-category': 1,
        'duplicate-annotation-id': 1,
        'unknown-image': 1,
        'annotation-id-0': 1,
      });
    });

    it('stores the first 200 problems and counts them all', async () => {
      const annotations = [ann(1, [1, 1, 5, 5]), ...Array.from({ length: 250 }, (_, i) => ann(i + 2, [1, 1, 0, 5]))];
      const d = await coco({ images: [image(1)], categories: [{ id: 7, name: 'cat' }], annotations });
      assert.strictEqual(problems(d).length, 200);
      assert.strictEqual(d.details.problemCount, 250);
      assert.deepStrictEqual(d.details.problemCounts, { 'box-empty': 250 });
    });

    it('refuses a file with nothing usable, naming the first problem', async () => {
      await rejects(
        coco({ images: [image(1)], categories: [{ id: 7, name: 'cat' }], annotations: [ann(3, [1, 1, 0, 5])] }),
        path.join(dir, 'bad.json'),
        /^no usable boxes left; 1 problems, first: bad\.json annotation 3: box \[1, 1, 0, 5\] has no area/,
      );
      await rejects(
        coco({ images: [], categories: [], annotations: [] }),
        path.join(dir, 'bad.json'),
        /^no usable images left/,
      );
      await rejects(coco({ images: [] }), path.join(dir, 'bad.json'), /not a COCO instances file/);
    });

    it('refuses hostile JSON (deep nesting) with a clear error', async () => {
      const deep = `{"images": ${'['.repeat(100000)}${']'.repeat(100000)}, "annotations": [], "categories": []}`;
      await rejects(coco(deep), path.join(dir, 'bad.json'), /COCO annotations is nested more than 128 levels deep/);
      await rejects(coco('{"images": [}'), path.join(dir, 'bad.json'), /^COCO annotations is not valid JSON/);
    });

    it('registers without images when the images folder lacks them, with a warning and imagesMissing', async () => {
      const root = shapes();
      const empty = mkdir(dir, 'empty');
      copyFileSync(path.join(FIXTURE, 'img_1.jpg'), path.join(empty, 'img_1.jpg'));
      const d = await registerDataset(registry, path.join(root, 'gt_dataset.json'), { images: empty });
      const m = await manifest(d);
      assert.strictEqual(m.detection!.imagesMissing, true);
      assert.deepStrictEqual(
        m.files.map((f) => f.path),
        ['gt_dataset.json'],
      );
      assert.strictEqual(d.details.imagesDir, undefined);
      assert.strictEqual(d.details.imagesMissing, true);
      assert.match(
        (d.details.warnings as string[])[0],
        /^2 of 3 images are not under .*empty; registered without images/,
      );
      assert.deepStrictEqual(
        problems(d).map((p) => [p.file, p.imageId]),
        [
          ['img_3.jpg', 1],
          ['img_2.jpg', 3],
        ],
      );
      assert.deepStrictEqual(
        m.samples.map((s) => s.image),
        [2, 3, 1].map((id) => ({ id, width: 256, height: 256 })),
      );
    });

    it('reports an image whose size differs from the JSON, keeping the JSON size', async () => {
      const root = shapes();
      const doc = JSON.parse(readFileSync(path.join(root, 'gt_dataset.json'), 'utf8')) as CocoGt;
      doc.images[0].width = 300;
      write(path.join(root, 'gt_dataset.json'), JSON.stringify(doc));
      const d = await registerDataset(registry, path.join(root, 'gt_dataset.json'), { images: root });
      assert.deepStrictEqual(
        problems(d).map((p) => [p.file, p.imageId, p.problem]),
        [['img_3.jpg', 1, "the image is 256×256, gt_dataset.json says 300×256; the JSON's size is used"]],
      );
      assert.strictEqual((await manifest(d)).samples[2].image!.width, 300);
    });
  });

  describe('YOLO', () => {
    it('reads label lines: polygons as their bounding box, bad lines reported by line, unlabelled images kept', async () => {
      const root = mkdir(dir, 'y');
      writeYolo(root, 'train: images/train\nval: images/val.txt\n');
      write(path.join(root, 'images', 'val.txt'), './val/img_3.jpg\n./val/gone.jpg\n');
      write(
        path.join(root, 'labels', 'train', 'img_1.txt'),
        [
          '0 0.5 0.5 0.25 0.5',
          '1 0.25 0.25 0.75 0.25 0.5 0.75', // polygon
          '9 0.5 0.5 0.1 0.1',
          '0 0.5 0.5 0.1',
          'cat 0.5 0.5 0.1 0.1',
          '2 0.5 0.5 0 0.1',
          '3 1.5 1.5 0.2 0.2',
          '',
          '1 0.95 0.5 0.2 0.2',
        ].join('\n'),
      );
      copyFileSync(path.join(FIXTURE, 'img_2.jpg'), path.join(root, 'images', 'train', 'unlabelled.jpg'));
      const d = await registerDataset(registry, root);
      const m = await manifest(d);
      const s1 = m.samples.find((s) => s.file === 'images/train/img_1.jpg')!;
      assert.deepStrictEqual(
        s1.boxes!.map((b) => [b.label, b.bbox.map((v) => +v.toFixed(6))]),
        [
          [0, [96, 64, 64, 128]],
          [1, [64, 64, 128, 128]],
          [1, [217.6, 102.4, 51.2, 51.2]],
        ],
      );
      assert.deepStrictEqual(m.samples.find((s) => s.file === 'images/train/unlabelled.jpg')!.boxes, []);
      assert.deepStrictEqual(
        problems(d).map((p) => [p.file, p.line, p.problem.split(';')[0]]),
        [
          ['images/val.txt', 2, './val/gone.jpg: no such image'],
          ['labels/train/img_1.txt', 3, 'class 9 is not one of 0..3'],
          [
            'labels/train/img_1.txt',
            4,
            'expected "class cx cy w h" (or a polygon "class x1 y1 x2 y2 …"), got "0 0.5 0.5 0.1"',
          ],
          [
            'labels/train/img_1.txt',
            5,
            'expected "class cx cy w h" (or a polygon "class x1 y1 x2 y2 …"), got "cat 0.5 0.5 0.1 0.1"',
          ],
          ['labels/train/img_1.txt', 6, 'box [128, 115.2, 0, 25.6] has no area (w or h ≤ 0)'],
          ['labels/train/img_1.txt', 7, 'box [358.4, 358.4, 51.2, 51.2] lies entirely outside the 256×256 image'],
          ['labels/train/img_1.txt', 9, 'box [217.6, 102.4, 51.2, 51.2] reaches outside the 256×256 image'],
        ],
      );
      // Image ids by path, box ids by image then line.
      assert.deepStrictEqual(
        m.samples.map((s) => [s.file, s.image!.id, s.boxes!.map((b) => b.id)]),
        [
          ['images/train/img_1.jpg', 1, [1, 2, 3]],
          ['images/train/img_2.jpg', 2, [4, 5, 6]],
          ['images/train/unlabelled.jpg', 3, []],
          ['images/val/img_3.jpg', 4, [7, 8, 9]],
        ],
      );
      assert.ok(m.files.some((f) => f.path === 'images/val.txt'));
    });

    it('refuses a data.yaml whose paths lead outside the folder it is registered from', async () => {
      const root = mkdir(dir, 'inner', 'y');
      writeYolo(root, 'path: ../..\ntrain: images/train\n');
      const yaml = path.join(root, 'data.yaml');
      await rejects(registerDataset(registry, yaml), yaml, /^"path" .* is outside .*y; refused/);
      writeYolo(root, 'path: /etc\ntrain: .\n');
      await rejects(registerDataset(registry, yaml), yaml, /^"path" \/etc is outside/);
      writeYolo(root, 'train: ../../shapes\n');
      shapes();
      await rejects(registerDataset(registry, root), yaml, /^"train" .*shapes is outside/);
      // Inside a wider boundary, ../.. is fine: the root becomes the folder holding everything used.
      writeYolo(root, 'path: ../..\ntrain: inner/y/images/train\n');
      const d = await registerDataset(registry, yaml, { boundary: dir });
      assert.strictEqual(d.root, root);
      write(yaml, 'names: 3\ntrain: images/train\n');
      await rejects(registerDataset(registry, yaml), yaml, /"names" must be a list of class names/);
      const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 9; i++)
        laughs.push(
          `${'bcdefghij'[i - 1]}: &${'bcdefghij'[i - 1]} [${Array(9)
            .fill(`*${'abcdefghij'[i - 1]}`)
            .join(', ')}]`,
        );
      write(yaml, laughs.join('\n') + '\nnames: [x]\ntrain: images/train\n');
      await rejects(registerDataset(registry, yaml), yaml, /^invalid YAML: .*alias/i);
    });
  });

  describe('Pascal VOC', () => {
    it('keeps difficult, skips XML of unknown structure, keeps an image listed in two splits in the first', async () => {
      const root = mkdir(dir, 'voc');
      writeVoc(root);
      const xml = path.join(root, 'Annotations', 'img_1.xml');
      write(xml, readFileSync(xml, 'utf8').replace('<difficult>0</difficult>', '<difficult>1</difficult>'));
      write(path.join(root, 'Annotations', 'odd.xml'), '<notvoc><size/></notvoc>');
      write(path.join(root, 'Annotations', 'broken.xml'), '<annotation><size>');
      write(
        path.join(root, 'Annotations', 'bomb.xml'),
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><annotation><object><name>&b;</name></object></annotation>',
      );
      write(
        path.join(root, 'Annotations', 'deep.xml'),
        `<annotation>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</annotation>`,
      );
      write(path.join(root, 'ImageSets', 'Main', 'val.txt'), 'img_3\nimg_1\nnope\n');
      write(path.join(root, 'ImageSets', 'Main', 'trainval.txt'), 'img_1\n');
      const d = await registerDataset(registry, root);
      const m = await manifest(d);
      assert.strictEqual(m.samples.length, 3);
      assert.deepStrictEqual(
        m.samples.map((s) => [s.file, s.split]),
        [
          ['JPEGImages/img_1.jpg', 'train'],
          ['JPEGImages/img_2.jpg', 'train'],
          ['JPEGImages/img_3.jpg', 'val'],
        ],
      );
      assert.deepStrictEqual(
        m.samples[0].boxes!.map((b) => b.difficult ?? false),
        [true, false, false],
      );
      assert.ok(!m.files.some((f) => f.path.includes('trainval') || f.path.includes('odd')));
      assert.deepStrictEqual(
        problems(d).map((p) => [p.file, p.line, p.problem.split(';')[0].replace(/ at line.*/, '')]),
        [
          ['Annotations/bomb.xml', undefined, 'declares a DOCTYPE or entities, which VOC annotations never do'],
          ['Annotations/broken.xml', undefined, 'not valid XML'],
          ['Annotations/deep.xml', undefined, 'not readable XML: Maximum nested tags exceeded'],
          ['Annotations/odd.xml', undefined, 'no <annotation> element'],
          ['ImageSets/Main/val.txt', 2, 'img_1 is in train and val'],
          ['ImageSets/Main/val.txt', 3, 'nope has no annotation and image'],
        ],
      );
    });

    it('uses trainval.txt when train and val are absent; reports boxes by file and line', async () => {
      const root = mkdir(dir, 'voc');
      writeVoc(root);
      for (const f of ['train.txt', 'val.txt']) rmSync(path.join(root, 'ImageSets', 'Main', f));
      write(path.join(root, 'ImageSets', 'Main', 'trainval.txt'), 'img_1\nimg_2\n');
      const xml = path.join(root, 'Annotations', 'img_2.xml');
      write(xml, readFileSync(xml, 'utf8').replace(/<xmax>\d+<\/xmax>/, '<xmax>1</xmax>'));
      const d = await registerDataset(registry, root);
      const m = await manifest(d);
      assert.deepStrictEqual(m.splits, ['trainval']);
      assert.deepStrictEqual(
        m.samples.map((s) => s.split),
        ['trainval', 'trainval', null],
      );
      assert.deepStrictEqual(
        problems(d).map((p) => [p.file, p.line, p.problem.split(';')[0].replace(/\[.*\]/, '[…]')]),
        [['Annotations/img_2.xml', 4, 'box […] has no area (w or h ≤ 0)']],
      );
      assert.strictEqual(d.details.boxes, 8);
    });
  });
});
