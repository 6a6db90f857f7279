// Thumbnails for the detection review grid: real PNG and JPEG files, shrunk on the image pool's
// worker threads, cached by the image's SHA-256; and where a detection dataset's image files are.
import * as assert from 'assert';
import { createHash } from 'crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { reviewImages, THUMBNAIL_SIDE, ThumbnailCache } from '../../../../../src/core/evaluate/detection/thumbnails';
import { ImagePool } from '../../../../../src/core/evaluate/imagePool';
import type { DatasetManifest, DatasetRecord } from '../../../../../src/core/registry/datasetTypes';
import { tempDir } from '../../../helpers/tmp';

/** A w×h PNG, red on the left half and blue on the right. */
function png(w: number, h: number): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      const left = x < w / 2;
      p.data[o] = left ? 230 : 10;
      p.data[o + 1] = 20;
      p.data[o + 2] = left ? 10 : 230;
      p.data[o + 3] = 255;
    }
  return PNG.sync.write(p);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('detection review thumbnails', () => {
  let pool: ImagePool;
  before(() => (pool = new ImagePool(1)));
  after(() => pool.close());

  it('shrinks a PNG and a JPEG to at most the thumbnail side, keeping shape and colours, on a worker', async () => {
    const dir = tempDir();
    const cache = new ThumbnailCache(path.join(dir, 'cache'), pool);
    const wide = png(640, 427);
    writeFileSync(path.join(dir, 'wide.png'), wide);
    const tall = Buffer.from(
      jpeg.encode({ data: PNG.sync.read(png(300, 900)).data, width: 300, height: 900 }, 90).data,
    );
    writeFileSync(path.join(dir, 'tall.jpg'), tall);
    for (const [file, bytes, w, h] of [
      ['wide.png', wide, THUMBNAIL_SIDE, Math.round((427 * THUMBNAIL_SIDE) / 640)],
      ['tall.jpg', tall, Math.round((300 * THUMBNAIL_SIDE) / 900), THUMBNAIL_SIDE],
    ] as const) {
      const out = await cache.get(path.join(dir, file), sha(bytes));
      assert.strictEqual(out, cache.fileOf(sha(bytes)));
      const t = jpeg.decode(readFileSync(out!), { useTArray: true });
      assert.deepStrictEqual([t.width, t.height], [w, h], file);
      const at = (x: number, y: number) => [...t.data.subarray((y * t.width + x) * 4, (y * t.width + x) * 4 + 3)];
      const [r1, , b1] = at(2, Math.floor(t.height / 2));
      const [r2, , b2] = at(t.width - 3, Math.floor(t.height / 2));
      assert.ok(r1 > 180 && b1 < 70 && r2 < 70 && b2 > 180, `${file}: left ${r1},${b1} right ${r2},${b2}`);
    }
  });

  it('answers from the cache by hash, without reading the image again', async () => {
    const dir = tempDir();
    const cache = new ThumbnailCache(path.join(dir, 'cache'), pool);
    const bytes = png(100, 50);
    const file = path.join(dir, 'a.png');
    writeFileSync(file, bytes);
    assert.strictEqual(await cache.cached(sha(bytes)), undefined);
    const made = await cache.get(file, sha(bytes));
    rmSync(file);
    assert.strictEqual(await cache.cached(sha(bytes)), made);
    assert.strictEqual(await cache.get(file, sha(bytes)), made);
  });

  it('makes nothing of a corrupt or missing image (the grid draws a blank canvas)', async () => {
    const dir = tempDir();
    const cache = new ThumbnailCache(path.join(dir, 'cache'), pool);
    const bad = png(40, 40).subarray(0, 60);
    writeFileSync(path.join(dir, 'bad.png'), bad);
    assert.strictEqual(await cache.get(path.join(dir, 'bad.png'), sha(bad)), undefined);
    assert.ok(!existsSync(cache.fileOf(sha(bad))));
    assert.strictEqual(await cache.get(path.join(dir, 'gone.png'), 'f'.repeat(64)), undefined);
  });

  it("finds a detection dataset's image files under its images folder, never outside it", () => {
    const dataset = {
      root: '/data/coco/instances.json',
      details: { imagesDir: '/data/coco/images' },
    } as unknown as DatasetRecord;
    const sample = (id: string) => ({
      id,
      file: id,
      label: -1,
      split: 'val',
      image: { id: 1, width: 64, height: 48 },
      boxes: [],
    });
    const manifest = {
      samples: [sample('a/1.jpg'), sample('../../etc/passwd')],
      files: [{ path: 'a/1.jpg', sha256: 'c'.repeat(64), size: 10 }],
    } as unknown as DatasetManifest;
    const found = reviewImages(dataset, manifest);
    assert.deepStrictEqual(found.get('a/1.jpg'), {
      file: '/data/coco/images/a/1.jpg',
      width: 64,
      height: 48,
      sha256: 'c'.repeat(64),
    });
    assert.strictEqual(found.get('../../etc/passwd')?.file, undefined);
    const missing = reviewImages(dataset, {
      ...manifest,
      detection: { source: 'coco', categoryIds: [], imagesMissing: true },
    });
    assert.strictEqual(missing.get('a/1.jpg')?.file, undefined);
    assert.strictEqual(missing.get('a/1.jpg')?.width, 64);
  });
});
