// `modelreg dataset add` / `dataset show` / `datasets` for detection datasets through the real CLI,
// on the coco-shapes fixture; the classification evaluator refuses a detection dataset in words.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { onnxModelBytes } from '../helpers/makeWeights';
import { CLI_JS } from '../helpers/paths';
import { makeGitRepo, tempDir } from '../helpers/tmp';

const FIXTURE = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'coco-shapes');

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_JS, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('modelreg dataset add (detection)', () => {
  let ws: string;
  const ok = (...args: string[]) => {
    const r = modelreg(ws, ...args);
    assert.strictEqual(r.code, 0, r.err);
    return r;
  };
  beforeEach(() => {
    ws = tempDir();
    makeGitRepo(ws);
    mkdirSync(path.join(ws, 'shapes', 'images'), { recursive: true });
    copyFileSync(path.join(FIXTURE, 'gt_dataset.json'), path.join(ws, 'shapes', 'instances.json'));
    for (const f of ['img_1.jpg', 'img_2.jpg', 'img_3.jpg'])
      copyFileSync(path.join(FIXTURE, f), path.join(ws, 'shapes', 'images', f));
  });

  it('registers a COCO file with --images, shows its counts and problems, and lists it', () => {
    const add = ok('dataset', 'add', 'shapes/instances.json', '--images', 'shapes/images', '--name', 'shapes');
    assert.match(
      add.out,
      /^Registered dataset shapes \(detection: 3 images, 9 boxes, 4 classes, 0 problems\); manifest [0-9a-f]{12}\n$/,
    );
    assert.strictEqual(add.err, '');
    const list = ok('datasets').out;
    assert.match(
      list,
      /^shapes\tdetection\t3 images\t9 boxes\t4 classes\t0 problems\t[0-9a-f]{12}\t.*instances\.json\n$/,
    );
    const show = ok('dataset', 'show', 'shapes').out;
    assert.match(
      show,
      /^shapes: detection: 3 images, 9 boxes, 4 classes, 0 problems\n {2}root .*instances\.json\n {2}images .*shapes\/images\n/,
    );
    const json = JSON.parse(ok('dataset', 'show', 'shapes', '--json').out) as { details: { boxes: number } };
    assert.strictEqual(json.details.boxes, 9);
  });

  it('without --images registers the boxes with a warning; problems are named by file and annotation', () => {
    const doc = JSON.parse(readFileSync(path.join(ws, 'shapes', 'instances.json'), 'utf8')) as {
      annotations: { id: number; bbox: number[] }[];
    };
    doc.annotations[1].bbox = [10, 10, 0, 4];
    writeFileSync(path.join(ws, 'shapes', 'instances.json'), JSON.stringify(doc));
    const add = ok('dataset', 'add', 'shapes/instances.json');
    assert.match(add.out, /\(detection: 3 images, 8 boxes, 4 classes, 1 problem, without images\)/);
    assert.match(add.err, /^warning: registered without images \(no images folder given\)/);
    assert.match(add.err, /See the problems with: modelreg dataset show instances\n$/);
    const show = ok('dataset', 'show', 'instances').out;
    assert.match(
      show,
      /\n {2}instances\.json \(annotation 2, image 1\): box \[10, 10, 0, 4\] has no area \(w or h ≤ 0\); dropped\n$/,
    );
  });

  it('refuses bad input naming the file, and the classification evaluator refuses a detection dataset', () => {
    writeFileSync(path.join(ws, 'deep.json'), `{"images": ${'['.repeat(5000)}${']'.repeat(5000)}}`);
    const deep = modelreg(ws, 'dataset', 'add', 'deep.json');
    assert.strictEqual(deep.code, 2, deep.err);
    assert.match(deep.err, /^modelreg: .*deep\.json: COCO annotations is nested more than 128 levels deep/);
    const outside = modelreg(ws, 'dataset', 'add', 'shapes/instances.json', '--images', '/nonexistent-images');
    assert.notStrictEqual(outside.code, 0);
    assert.match(outside.err, /nonexistent-images: no such file or folder/);

    ok('dataset', 'add', 'shapes/instances.json', '--images', 'shapes/images', '--name', 'shapes');
    mkdirSync(path.join(ws, 'models', 'net'), { recursive: true });
    writeFileSync(path.join(ws, 'models', 'net', 'model.onnx'), onnxModelBytes({ features: 16, classes: 4 }));
    ok('import', 'models/net', '--model', 'net');
    const e = modelreg(ws, 'evaluate', 'net@v1', '--dataset', 'shapes');
    assert.strictEqual(e.code, 2, e.err);
    assert.match(e.err, /^modelreg: dataset shapes holds detection boxes; evaluate a detector on it/);
  });
});
